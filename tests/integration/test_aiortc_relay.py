#!/usr/bin/python3
"""Two aiortc peers through caud.

A publishes aiortc-encoded VP8 (synthetic moving bars) + Opus (tone); B
answers the server's subscribe-offer and decodes with track.recv().
Asserts, within 20 s of B joining: >= 30 decoded video frames and decoded
audio frames at B; each peer's nominated ICE pair's remote is a candidate
caud announced, inside caud's RTP port range."""

import asyncio

from cauharness import check, log, run_test
import peers_aiortc
from peers_aiortc import wait_until
from relay_common import caud_media_addrs

ROOM = "it-aiortc-relay"


async def main(caud):
    call = peers_aiortc.Call(caud.ws_url, ROOM)
    try:
        await call.start()
        sa, sb, pa, pb = call.sa, call.sb, call.pa, call.pb
        answer, counter, info = call.answer, call.counter, call.info
        ok = await wait_until(lambda: counter.video_frames >= 30 and counter.audio_frames > 0, 20)
        log("B: %d video frames (%s), %d audio frames; offers %d"
            % (counter.video_frames, counter.last_frame_size, counter.audio_frames, len(info["offers"])))
        for sdp in info["offers"]:
            conflicts = peers_aiortc.extmap_conflicts(sdp)
            if conflicts:
                log("note: subscribe-offer gives one extmap id to different extensions %s;"
                    " aiortc 1.4 cannot receive that bundled" % conflicts)
        check(len(info["offers"]) >= 1, "B received a subscribe-offer")
        check(all(r.get("type") == "ok" for r in info["replies"]),
              "caud accepted every subscribe-answer: %s" % info["replies"])
        check(ok, "B decoded >= 30 video frames and audio within 20 s")

        caud_a = caud_media_addrs(sa, answer)
        caud_b = caud_media_addrs(sb, *info["offers"])
        ra = peers_aiortc.selected_remote(pa)
        rb = peers_aiortc.selected_remote(pb)
        log("caud's candidates to A %s, to B %s; A's pair -> %s, B's pair -> %s"
            % (sorted(caud_a), sorted(caud_b), ra, rb))
        check(ra is not None and tuple(ra) in caud_a, "A's nominated remote is caud's")
        check(rb is not None and tuple(rb) in caud_b, "B's nominated remote is caud's")
        for addr in (ra, rb):
            check(caud.rtp_min <= addr[1] <= caud.rtp_max, "caud's port %d in its RTP range" % addr[1])

        frames = counter.video_frames
        await asyncio.sleep(2)
        check(counter.video_frames > frames,
              "frames keep coming (%d -> %d)" % (frames, counter.video_frames))
    finally:
        await call.close()
    check(caud.alive(), "caud is still running")


if __name__ == "__main__":
    run_test(main, deadline=150)
