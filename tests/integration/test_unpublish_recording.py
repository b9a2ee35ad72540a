#!/usr/bin/python3
"""Unpublish while the room records (media_engine_unpublish, issue 6):
a webrtcbin publisher A is recorded; A unpublishes (a briefing host takes
the floor back) and publishes again; C publishes throughout.  When the
recording stops, A has two files — one closed at the unpublish, one from
the second publication — each decodable to audio and video and about as
long as A published; C has one file spanning the whole recording."""

import asyncio
import os
import sys
import tempfile
import time

from cauharness import SKIP, check, log, run_test
import media_harness as mh
import record_common as rc

FIRST, GAP, SECOND = 4.0, 2.0, 4.0


async def main():
    if not os.environ.get("MEDIA_HARNESS") or not os.environ.get("VAULT_CAT"):
        log("SKIP: MEDIA_HARNESS / VAULT_CAT not set (meson sets them)")
        sys.exit(SKIP)
    work = tempfile.mkdtemp(prefix="cau-unpub-rec-")
    keys = os.path.join(work, "keys")
    os.makedirs(keys, mode=0o700)
    h = mh.MediaHarness()
    peers = []
    try:
        await h.ready()
        a, _ = await mh.publish_speaker(h, "A", volume=1.0)
        peers.append(a)
        c, _ = await mh.publish_speaker(h, "C", volume=0.0, pattern="smpte")
        peers.append(c)
        await asyncio.sleep(1.0)
        # Times are taken when the test asks (record-start, unpublish, stop)
        # or when a publication is connected: the files may be up to the
        # connection's set-up longer, never much shorter.
        t0 = time.monotonic()
        h.send({"op": "record-start", "recording": "rec-unpub", "directory": work,
                "key_dir": keys})
        _, ev = await h.wait(lambda m: m.get("op") in ("record-event", "error"), 20,
                             "recording started")
        check(ev.get("event") == "started", "recording started (%s)" % ev)
        await asyncio.sleep(FIRST)

        mark = len(h.events)
        t_unpub = time.monotonic() - t0
        h.send({"op": "unpublish", "participant": "A"})
        await h.wait(lambda m: m.get("op") == "track-removed" and m.get("participant") == "A",
                     10, "A's tracks removed", mark)
        a.stop()
        await asyncio.sleep(GAP)
        a2, _ = await mh.publish_speaker(h, "A", volume=1.0, pattern="snow")
        peers.append(a2)
        t_repub = time.monotonic() - t0
        await asyncio.sleep(SECOND)
        since = len(h.events)
        h.send({"op": "record-stop"})
        t_stop = time.monotonic() - t0
        _, done = await h.wait(lambda m: m.get("op") == "record-done", 60, "record-done", since)
        check(done["error"] is None, "the recording ends without error (%s)" % done["error"])
        files = done["files"]
        log("files: %s" % files)
        mine = [f for f in files if f["participant"] == "A"]
        theirs = [f for f in files if f["participant"] == "C"]
        check(len(mine) == 2, "A has two files, one per publication (%d)" % len(mine))
        check(len(theirs) == 1, "C has one file (%d)" % len(theirs))
        expect = {mine[0]["file"]: t_unpub, mine[1]["file"]: t_stop - t_repub,
                  theirs[0]["file"]: t_stop}
        for f in files:
            path = os.path.join(work, f["file"])
            info = rc.vault_decrypt(keys, path, path + ".mkv")
            check(info["complete"], "%s is complete" % f["file"])
            result = rc.analyze(path + ".mkv")
            va = rc.span(result["audio"]) if "audio" in result else 0.0
            vv = rc.span(result["video"]) if "video" in result else 0.0
            want = expect[f["file"]]
            log("%s: audio %.2f s, video %.2f s, published %.2f s"
                % (f["file"], va, vv, want))
            check("audio" in result and "video" in result,
                  "%s decodes to audio and video" % f["file"])
            check(want - 1.5 <= va <= want + 1.0 and want - 1.5 <= vv <= want + 1.0,
                  "%s lasts about as long as its publication (%.2f / %.2f s of %.2f s)"
                  % (f["file"], va, vv, want))
    finally:
        for p in peers:
            p.stop()
        rc_ = h.close()
    check(rc_ == 0, "media-harness exited cleanly (%s)" % rc_)


if __name__ == "__main__":
    run_test(lambda _caud: main(), needs_caud=False, deadline=200)
