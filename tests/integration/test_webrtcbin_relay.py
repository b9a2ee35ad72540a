#!/usr/bin/python3
"""Two GStreamer webrtcbin peers through caud.

A joins and publishes VP8 (videotestsrc) + Opus (audiotestsrc); B joins,
answers the server's subscribe-offer recvonly, decodes the VP8 and counts
Opus RTP packets.  Asserts, within 20 s of B joining: B decoded >= 30 video
frames and received audio packets; and each peer's selected ICE pair has a
candidate caud announced (in its SDP or trickle, inside caud's RTP port
range) as the remote -- i.e. the media crossed the server."""

import asyncio

from cauharness import Signaling, check, log, run_test
from peers_aiortc import wait_until
from peers_gst import attach_subscriber, drive_publisher
from relay_common import caud_media_addrs, connection_states

ROOM = "it-webrtcbin-relay"


async def main(caud):
    sa = await Signaling(caud.ws_url, "A").connect()
    sb = await Signaling(caud.ws_url, "B").connect()
    a = b = None
    try:
        await sa.join(ROOM, "Peer A (webrtcbin)")
        a, answer = await drive_publisher(sa, "A")
        check("a=recvonly" in answer,
              "publish-answer is recvonly")
        check(await wait_until(lambda: a.conn_state == "connected", 15),
              "A's publish connection reaches connected (webrtcbin state %s)" % a.conn_state)

        b, info = await attach_subscriber(sb, "B")
        joined = await sb.join(ROOM, "Peer B (webrtcbin)")
        others = [p.get("id") for p in joined.get("participants", [])]
        check(sa.participant in others, "B's joined lists A (%s in %s)" % (sa.participant, others))

        ok = await wait_until(lambda: b.video_frames >= 30 and b.audio_packets > 0, 20)
        log("B: %d VP8 frames decoded, %d video RTP, %d audio RTP; offers %d, replies %s"
            % (b.video_frames, b.video_rtp_packets, b.audio_packets, len(info["offers"]),
               [r.get("type") for r in info["replies"]]))
        check(len(info["offers"]) >= 1, "B received a subscribe-offer")
        check(all(r.get("type") == "ok" for r in info["replies"]),
              "caud accepted every subscribe-answer: %s" % info["replies"])
        check(ok, "B decoded >= 30 VP8 frames and received Opus RTP within 20 s")

        caud_a = caud_media_addrs(sa, answer)
        caud_b = caud_media_addrs(sb, *info["offers"])
        ra = await a.selected_remote()
        rb = await b.selected_remote()
        log("caud's candidates to A %s, to B %s; A's pair -> %s, B's pair -> %s"
            % (sorted(caud_a), sorted(caud_b), ra, rb))
        check(ra is not None and ra in caud_a, "A's selected remote candidate is caud's")
        check(rb is not None and rb in caud_b, "B's selected remote candidate is caud's")
        for addr in (ra, rb):
            check(caud.rtp_min <= addr[1] <= caud.rtp_max,
                  "caud's port %d is in its RTP range %d-%d" % (addr[1], caud.rtp_min, caud.rtp_max))
        check("connected" in connection_states(sa, "publish"),
              "caud told A its publish pc is connected")

        frames = b.video_frames
        await asyncio.sleep(2)
        check(b.video_frames > frames, "frames keep coming (%d -> %d)" % (frames, b.video_frames))

        r = await sb.request({"type": "leave"})
        check(r.get("type") == "left", "leave -> left")
    finally:
        await sa.close()
        await sb.close()
        for p in (a, b):
            if p:
                p.stop()
    check(caud.alive(), "caud is still running")


if __name__ == "__main__":
    run_test(main, deadline=150)
