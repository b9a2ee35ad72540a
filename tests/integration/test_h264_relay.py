#!/usr/bin/python3
"""H.264 through caud: a webrtcbin publisher that offers only H.264
(openh264enc, constrained baseline, packetization-mode 1) and a webrtcbin
subscriber that decodes it with openh264dec.

Asserts: caud's publish-answer chose H264 with packetization-mode=1; the
subscribe-offer carries H264; the subscriber decodes >= 30 frames within
20 s and keeps decoding; the track is announced with codec H264."""

import asyncio

from cauharness import Signaling, check, log, run_test
from peers_aiortc import wait_until
from peers_gst import attach_subscriber, drive_publisher

ROOM = "it-h264-relay"


async def main(caud):
    sa = await Signaling(caud.ws_url, "A").connect()
    sb = await Signaling(caud.ws_url, "B").connect()
    a = b = None
    try:
        await sa.join(ROOM, "Peer A (webrtcbin H.264)")
        a, answer = await drive_publisher(sa, "A", video_codec="H264")
        video = answer[answer.index("m=video"):]
        check("H264/90000" in video and "packetization-mode=1" in video,
              "publish-answer chose H264 with packetization-mode=1")
        check(await wait_until(lambda: a.conn_state == "connected", 15),
              "A's publish connection reaches connected (%s)" % a.conn_state)

        b, info = await attach_subscriber(sb, "B")
        joined = await sb.join(ROOM, "Peer B (webrtcbin)")
        tracks = [t for p in joined.get("participants", []) for t in p.get("tracks", [])]
        check(any(t.get("kind") == "video" and t.get("codec", "").upper() == "H264" for t in tracks),
              "B's joined lists A's video track as H264: %s" % tracks)

        ok = await wait_until(lambda: b.video_frames >= 30 and b.audio_packets > 0, 20)
        log("B: %d H.264 frames decoded (%s), %d video RTP, %d audio RTP"
            % (b.video_frames, b.video_codec_received, b.video_rtp_packets, b.audio_packets))
        check(info["offers"] and "H264/90000" in info["offers"][-1],
              "the subscribe-offer carries H264")
        check(b.video_codec_received == "H264", "B's incoming video pad is H264")
        check(ok, "B decoded >= 30 H.264 frames and received Opus within 20 s")
        frames = b.video_frames
        await asyncio.sleep(2)
        check(b.video_frames > frames, "frames keep coming (%d -> %d)" % (frames, b.video_frames))
    finally:
        await sa.close()
        await sb.close()
        for p in (a, b):
            if p:
                p.stop()
    check(caud.alive(), "caud is still running")


if __name__ == "__main__":
    run_test(main, deadline=150)
