#!/usr/bin/python3
"""Recording through caud's WebSocket messages, measured (issue 5 "Tests").

caud in demo mode: the clinician files the patient's recording consent
over REST; clinician and specialist join the consultation room with their
tokens.  The clinician publishes with aiortc a picture that flashes white
and a tone that beeps at the same instants once a second; the specialist
publishes webrtcbin's test pattern.  `record start`, 10 s, `record stop`;
the two participant files are then fetched decrypted over HTTPS
(playback tickets) and decoded with GStreamer:
  - each has audio and video spanning 10 s ± 0.5 s;
  - in the clinician's, every flash has its beep within 80 ms.
(test_recording.py measures the same through the media engine alone;
test_recording_signaling.py covers the rows, composition, playback and
kill -9 with restart.)"""

import asyncio
import os
import statistics
import sys
import tempfile

from cauharness import SKIP, Caud, caud_path, check, log, run_test
import peers_gst
import record_common as rc
from test_recording_signaling import DEMO_PASSWORD, http, http_json, join, login, wait_rows

RECORD_SECONDS = 10.0


async def main(_unused):
    env = {"CAU_DEMO_PASSWORD": DEMO_PASSWORD, "CAU_RECORDING_MIN_FREE_MB": "64"}
    caud = Caud(extra_args=["--demo", "on"], env=env).start()
    pcs, peers, sigs = [], [], []
    try:
        t_doctor = login(caud, "clinician.dongson")
        t_expert = login(caud, "specialist.thanhhoa")
        status, worklist = http_json(caud, "GET", "/api/consultations", t_doctor)
        check(status == 200 and worklist, "the clinician's worklist")
        consultation = worklist[0]["id"]
        status, _ = http_json(caud, "POST", "/api/patients/%s/consents" % worklist[0]["patient_id"],
                              t_doctor, {"purpose": "recording", "granted": True,
                                         "method": "verbal", "consultation_id": consultation})
        check(status == 201, "verbal recording consent filed")
        doctor, _ = await join(caud, "doctor", consultation, t_doctor)
        expert, _ = await join(caud, "expert", consultation, t_expert)
        sigs += [doctor, expert]
        pcs.append(await rc.publish_flash_beep_aiortc(None, "doctor", sig=doctor))
        peer, _ = await peers_gst.drive_publisher(expert, "expert")
        rc.fast_rtcp(peer)
        peers.append(peer)
        await asyncio.sleep(2.0)

        r = await doctor.request({"type": "record", "action": "start"})
        check(r.get("type") == "ok", "record start answered ok (%s)" % r)
        started = await doctor.wait_for("recording-started")
        await asyncio.sleep(RECORD_SECONDS)
        r = await doctor.request({"type": "record", "action": "stop"})
        check(r.get("type") == "ok", "record stop answered ok")
        await doctor.wait_for("recording-stopped")
        rows = await wait_rows(
            caud, t_doctor, consultation,
            lambda rows: len([x for x in rows if x["kind"] == "participant"
                              and x["recording"] == started["recording"]
                              and x["status"] == "complete"]) == 2,
            60, "two participant files complete")
        files = [x for x in rows if x["kind"] == "participant"
                 and x["recording"] == started["recording"]]
        results = {}
        for row in files:
            status, ticket = http_json(caud, "POST", "/api/recordings/%s/playback" % row["id"],
                                       t_doctor)
            check(status == 200, "playback ticket for %s" % row["participant_name"])
            status, _, whole = http(caud, "GET", ticket["url"], timeout=60)
            check(status == 200 and whole[:4] == b"\x1a\x45\xdf\xa3",
                  "%s streams as Matroska" % row["participant_name"])
            with tempfile.NamedTemporaryFile(suffix=".mkv") as f:
                f.write(whole)
                f.flush()
                result = rc.analyze(f.name)
            name = row["participant_name"]
            check("audio" in result and "video" in result, "%s: audio and video" % name)
            va, vv = rc.span(result["audio"]), rc.span(result["video"])
            log("%s: audio %.3f s, video %.3f s (%d frames), row %s ms"
                % (name, va, vv, result["video"]["count"], row["duration_ms"]))
            check(abs(va - RECORD_SECONDS) <= 0.5, "%s: audio spans 10 s ± 0.5 (%.3f)" % (name, va))
            check(abs(vv - RECORD_SECONDS) <= 0.5, "%s: video spans 10 s ± 0.5 (%.3f)" % (name, vv))
            results[name] = result
        # The clinician's file is the one that flashes.
        best = max(results.values(), key=lambda res: len(rc.sync_offsets(res)[2]))
        flashes, beeps, pairs = rc.sync_offsets(best)
        offsets = [o for _, o in pairs]
        log("A/V sync: %d flashes, %d beeps, offsets (ms) %s"
            % (len(flashes), len(beeps), [round(o * 1000) for o in offsets]))
        check(len(pairs) >= 8, "at least 8 flash/beep pairs in 10 s (%d)" % len(pairs))
        worst = max(abs(o) for o in offsets)
        log("A/V offset: median %.1f ms, worst %.1f ms"
            % (statistics.median(offsets) * 1000, worst * 1000))
        check(worst < 0.080, "every flash/beep offset under 80 ms (worst %.1f ms)" % (worst * 1000))
    except BaseException:
        caud.dump_log()
        raise
    finally:
        for p in peers:
            p.stop()
        for pc in pcs:
            await pc.close()
        for s in sigs:
            try:
                await asyncio.wait_for(s.close(), 5)
            except Exception:
                pass
        caud.stop()


if __name__ == "__main__":
    if caud_path() is None:
        log("SKIP: caud is not built")
        sys.exit(SKIP)
    run_test(main, needs_caud=False, deadline=240)
