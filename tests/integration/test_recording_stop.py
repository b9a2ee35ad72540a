#!/usr/bin/env python3
"""A clean stop in mid-recording (the counterpart of test_recording_kill).

A webrtcbin publisher sends with recording on; then the record-harness's
stdin is closed, so it frees the media engine and exits, as caud does on
SIGTERM.  The engine must have closed the file whole before it returned:
the final chunk is there and the audio and video reach to within 1 s of
the stop.  Before, the threads that drain and close the files were not
waited for and died with the process, leaving files cut."""

import os

from cauharness import check, log, run_test
import record_common as rc

SECONDS_BEFORE_STOP = 6.0


async def main(_caud):
    h, peer, work, keys, started, elapsed = await rc.record_publisher("rec-stop",
                                                                       SECONDS_BEFORE_STOP)
    try:
        h.close()
        log("closed the harness's stdin %.2f s into the recording; exit %s"
            % (elapsed, h.proc.returncode))
        check(h.proc.returncode == 0, "the harness freed the engine and exited 0")
        path = os.path.join(work, started["detail"])
        info = rc.vault_decrypt(keys, path, path + ".mkv")
        log("decrypted: %s" % info)
        check(info["complete"], "the file has its final chunk: closed whole at the stop")
        result = rc.analyze(path + ".mkv")
        check("audio" in result and "video" in result, "decodes to audio and video: %s"
              % sorted(result))
        va, vv = rc.span(result["audio"]), rc.span(result["video"])
        log("audio %.3f s, video %.3f s; stopped at %.3f" % (va, vv, elapsed))
        check(min(va, vv) >= elapsed - 1.0,
              "audio and video both reach to within 1 s of the stop (%.3f / %.3f s of %.3f s)"
              % (va, vv, elapsed))
    finally:
        peer.stop()
        h.close()

if __name__ == "__main__":
    run_test(main, needs_caud=False, deadline=120)
