#!/usr/bin/env python3
"""kill -9 in mid-recording (issue 5 "Tests").

A webrtcbin publisher sends for a while with recording on; the process
holding the media engine (record-harness: media/ alone, the part of caud
that writes recordings) is killed with SIGKILL.  The vault file left
behind must be readable without its final chunk (reported incomplete),
decode with GStreamer to audio and video, and cover the recording up to at
most 2 s before the kill.  (Marking the row "interrupted" after a restart
is signaling's part: tests/unit/signaling/test-recording.c.)"""

import os

from cauharness import check, log, run_test
import record_common as rc

SECONDS_BEFORE_KILL = 6.0


async def main(_caud):
    h, peer, work, keys, started, elapsed = await rc.record_publisher("rec-kill",
                                                                      SECONDS_BEFORE_KILL)
    try:
        h.kill9()
        log("killed the media engine %.2f s into the recording" % elapsed)

        path = os.path.join(work, started["detail"])
        check(os.path.exists(path), "the file exists: %s" % started["detail"])
        info = rc.vault_decrypt(keys, path, path + ".mkv")
        log("decrypted: %s" % info)
        check(not info["complete"], "the file has no final chunk (interrupted)")
        check(info["size"] > 0, "the file holds data")
        result = rc.analyze(path + ".mkv")
        check("audio" in result and "video" in result, "decodes to audio and video: %s"
              % sorted(result))
        # The first frames are relative to the recording's start (shared
        # origin): the last decoded instant is how far the file reaches.
        reach = max(result["audio"]["last"], result["video"]["last"])
        va, vv = rc.span(result["audio"]), rc.span(result["video"])
        log("audio %.3f s (ends %.3f), video %.3f s (ends %.3f), %d frames; killed at %.3f"
            % (va, result["audio"]["last"], vv, result["video"]["last"],
               result["video"]["count"], elapsed))
        check(min(va, vv) >= elapsed - 2.0 - 0.7,
              "audio and video both cover the recording up to ≤ 2 s before the kill "
              "(%.3f / %.3f s of %.3f s; 0.7 s allowed for the first key frame and "
              "the first sender report)" % (va, vv, elapsed))
        check(reach <= elapsed + 1.5, "nothing beyond the kill (%.3f)" % reach)
    finally:
        if peer is not None:
            peer.stop()
        h.close()


if __name__ == "__main__":
    run_test(main, needs_caud=False, deadline=120)
