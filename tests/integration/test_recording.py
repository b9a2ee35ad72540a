#!/usr/bin/env python3
"""Recording of real WebRTC peers (issue 5 "Tests").

Two publishers in one room: A (aiortc) flashes white and beeps at the same
instants once a second, B (webrtcbin) sends the ordinary test pattern.  Recording runs
for 10 s; the per-participant vault files are then decrypted and decoded
with GStreamer:
  - each file has audio and video, each spanning 10 s ± 0.5 s;
  - in A's file every flash has its beep, the offset under 80 ms;
  - the files are complete (final chunk), mode 0600, with the SHA-256 and
    size reported; forwarding counted no
    unknown or malformed packets;
  - C publishes 3 s into the recording: its file starts then on the
    recording's shared timeline and ends with the others;
  - a start with less free space than required is refused (disk-low);
  - free space running out mid-recording (a small tmpfs) stops it with a
    disk-low event, the files closed complete and decodable.
The media engine runs in record-harness (media/ alone) so that this test
does not depend on signaling's consent rules."""

import asyncio
import hashlib
import os
import statistics
import subprocess
import tempfile
import time

from cauharness import check, log, run_test
import peers_aiortc
import record_common as rc

RECORD_SECONDS = 10.0
LATE_JOIN_S = 3.0


async def main(_caud):
    work = tempfile.mkdtemp(prefix="cau-rec-")
    keys = os.path.join(work, "keys")
    os.makedirs(keys, mode=0o700)
    h = rc.RecordHarness()
    peers = []
    mounted = []
    a = c_pc = None
    try:
        await h.ready()
        a = await rc.publish_flash_beep_aiortc(h, "A")
        peers.append(await rc.publish(h, "B"))
        await asyncio.sleep(1.0)

        await h.start_recording("rec1", work, keys)
        started = await h.wait(lambda m: m.get("op") == "event", what="started event")
        check(started["event"] == "started", "first event is 'started': %s" % started)
        t0 = time.monotonic()
        # C publishes 3 s into the recording: recorded from then on, placed
        # at its time on the recording's shared timeline.
        await asyncio.sleep(LATE_JOIN_S)
        c_pc, _ = await peers_aiortc.publish(rc.HarnessSignaling(h, "C"))
        await asyncio.sleep(RECORD_SECONDS - (time.monotonic() - t0))
        done = await h.stop_recording()
        log("recorded %.2f s; done: %s" % (time.monotonic() - t0, done))
        check(done["error"] is None, "no recording error: %s" % done["error"])
        files = {f["participant"]: f for f in done["files"]}
        check(sorted(files) == ["A", "B", "C"], "one file per participant: %s" % sorted(files))
        stats = await h.stats()
        log("relay stats %s" % stats)
        check(stats["dropped_unknown"] == 0 and stats["dropped_malformed"] == 0,
              "forwarding dropped nothing: %s" % stats)

        decoded = {}
        for p, f in sorted(files.items()):
            if p == "C":
                continue
            check(f["has_audio"] and f["has_video"], "%s: audio and video recorded" % p)
            check(f["dropped"] == 0, "%s: no packet dropped at the recorder" % p)
            path = os.path.join(work, f["file"])
            check(os.stat(path).st_mode & 0o777 == 0o600, "%s: file mode 0600" % p)
            with open(path, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            check(digest == f["sha256"] and os.path.getsize(path) == f["size"],
                  "%s: SHA-256 and size as reported" % p)
            info = rc.vault_decrypt(keys, path, path + ".mkv")
            check(info["complete"], "%s: the file has its final chunk" % p)
            result = decoded[p] = rc.analyze(path + ".mkv")
            check("audio" in result and "video" in result, "%s: decodes to audio and video" % p)
            va, vv = rc.span(result["audio"]), rc.span(result["video"])
            log("%s: audio %.3f s (%d buffers), video %.3f s (%d frames), reported %d ms"
                % (p, va, result["audio"]["count"], vv, result["video"]["count"],
                   f["duration_ms"]))
            check(abs(va - RECORD_SECONDS) <= 0.5, "%s: audio spans 10 s ± 0.5 (%.3f)" % (p, va))
            check(abs(vv - RECORD_SECONDS) <= 0.5, "%s: video spans 10 s ± 0.5 (%.3f)" % (p, vv))
            check(result["video"]["count"] >= 150, "%s: video frames decoded (%d)"
                  % (p, result["video"]["count"]))
            if p == "A":
                flashes, beeps, pairs = rc.sync_offsets(result)
                offsets = [o for _, o in pairs]
                log("A/V sync: %d flashes, %d beeps, offsets (ms) %s"
                    % (len(flashes), len(beeps), [round(o * 1000) for o in offsets]))
                check(len(pairs) >= 8, "at least 8 flash/beep pairs in 10 s (%d)" % len(pairs))
                worst = max(abs(o) for o in offsets)
                log("A/V offset: median %.1f ms, worst %.1f ms"
                    % (statistics.median(offsets) * 1000, worst * 1000))
                check(worst < 0.080, "every flash/beep offset under 80 ms (worst %.1f ms)"
                      % (worst * 1000))

        # The late joiner's file.
        f = files["C"]
        path = os.path.join(work, f["file"])
        rc.vault_decrypt(keys, path, path + ".mkv")
        result = rc.analyze(path + ".mkv")
        check("audio" in result and "video" in result, "C: decodes to audio and video")
        first = min(result["audio"]["first"], result["video"]["first"])
        last = max(result["audio"]["last"], result["video"]["last"])
        log("C (joined at %.1f s): %.3f..%.3f s on the recording's timeline" % (LATE_JOIN_S, first, last))
        check(first >= LATE_JOIN_S, "C starts after it joined (%.3f)" % first)
        check(abs(last - decoded["A"]["audio"]["last"]) < 1.0,
              "C ends with the others (%.3f, A %.3f)" % (last, decoded["A"]["audio"]["last"]))

        # Not enough free space: refused at start with a disk-low event, and
        # on_done reports no file.
        await h.start_recording("rec2", work, keys, min_free=1 << 62)
        ev = await h.wait(lambda m: m.get("op") == "event", what="disk-low event")
        check(ev["event"] == "disk-low", "disk-low event at start: %s" % ev)
        done = await h.wait(lambda m: m.get("op") == "done", what="done after disk-low")
        check(done["files"] == [] and done["error"], "no file, an error: %s" % done)
        check(not any(n.startswith("rec2") for n in os.listdir(work)), "no rec2 file created")

        # Free space running out during a recording: the directory is a
        # small tmpfs of our own, and the threshold is set 256 KiB below
        # what it has free, so the files themselves bring it under.  The
        # recording stops itself with a disk-low event, and the files it
        # wrote are closed cleanly (complete, decodable).
        small = os.path.join(work, "small")
        os.makedirs(small, mode=0o700)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", small],
                       check=True)
        mounted.append(small)
        st = os.statvfs(small)
        free = st.f_bavail * st.f_frsize
        await h.start_recording("rec3", small, keys, min_free=free - (256 << 10))
        ev = await h.wait(lambda m: m.get("op") == "event", what="started event (rec3)")
        check(ev["event"] == "started", "rec3 starts: %s" % ev)
        t_low = time.monotonic()
        ev = await h.wait(lambda m: m.get("op") == "event", timeout=60, what="disk-low event")
        check(ev["event"] == "disk-low", "disk-low while recording: %s" % ev)
        log("disk-low after %.1f s: %s" % (time.monotonic() - t_low, ev.get("detail")))
        done = await h.wait(lambda m: m.get("op") == "done", what="done after disk-low")
        check(len(done["files"]) == 3, "the three files are reported: %s" % done["files"])
        for f in done["files"]:
            path = os.path.join(small, f["file"])
            check(f["sha256"] and f["size"] > 0, "%s closed with its SHA-256" % f["file"])
            check(hashlib.sha256(open(path, "rb").read()).hexdigest() == f["sha256"],
                  "%s: SHA-256 matches the file" % f["file"])
        f = {x["participant"]: x for x in done["files"]}["A"]
        path = os.path.join(small, f["file"])
        rc.vault_decrypt(keys, path, os.path.join(work, "rec3-A.mkv"))
        result = rc.analyze(os.path.join(work, "rec3-A.mkv"))
        check("video" in result and "audio" in result, "rec3 A decodes: %s" % sorted(result))
    finally:
        for path in mounted:
            subprocess.run(["umount", path], check=False)
        for p in peers:
            p.stop()
        for pc in (a, c_pc):
            if pc is not None:
                await pc.close()
        h.close()


if __name__ == "__main__":
    run_test(main, needs_caud=False, deadline=240)
