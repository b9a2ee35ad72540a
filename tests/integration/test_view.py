#!/usr/bin/python3
"""WHEP viewing in the media plane (media_engine_view), with real webrtcbin
peers through the media engine (media-harness, no HTTP):

A viewer E that offers before anyone publishes decodes the first publisher.

A viewer V — a webrtcbin that *offers* recvonly Opus + VP8, as a WHEP
player does — decodes the active speaker's camera on its one video m-line
and keeps decoding, on the same stream (no renegotiation, one video pad),
while the server re-binds it:
  1. A (dark 'ball' picture) speaks: V shows A;
  2. C (bright 'smpte' bars) speaks and A falls silent: V switches to C;
  3. C unpublishes: V switches back to A;
  4. S publishes a screen share: a second viewer W offering two video
     m-lines sees A's camera on the first and the screen on the second.
Which publisher V sees is told by the decoded picture's mean luma."""

import asyncio
import os
import sys

from cauharness import SKIP, check, log, run_test
from peers_aiortc import wait_until
import media_harness as mh

DARK, BRIGHT = 60, 90     # mean luma: 'ball' is ~20-40, 'smpte' ~100-150


def one_pad(peer):
    return list(peer.luma.values())[0] if len(peer.luma) == 1 else None


async def grows(peer, seconds=2.0, min_frames=10):
    f0, a0 = peer.video_frames, peer.audio_packets
    await asyncio.sleep(seconds)
    return peer.video_frames - f0 >= min_frames and peer.audio_packets - a0 >= 25, \
        (peer.video_frames - f0, peer.audio_packets - a0)


async def main():
    if not os.environ.get("MEDIA_HARNESS"):
        log("SKIP: MEDIA_HARNESS not set (meson sets it)")
        sys.exit(SKIP)
    h = mh.MediaHarness()
    peers = []
    try:
        await h.ready()
        # 0. a viewer that comes before any publisher (as WHEP players
        # waiting for a briefing to start) is bound when A publishes
        e, _, _ = await mh.viewer(h, "E", audio_lines=1, video_lines=1)
        peers.append(e)
        await asyncio.sleep(1.0)
        check(e.video_frames == 0 and e.audio_packets == 0, "E receives nothing in an empty room")
        a, _ = await mh.publish_speaker(h, "A", volume=1.0, pattern="ball")
        peers.append(a)
        c, _ = await mh.publish_speaker(h, "C", volume=0.0, freq=660, pattern="smpte")
        peers.append(c)
        await h.wait(lambda m: m.get("op") == "active-speaker" and m.get("participant") == "A",
                     10, "A as active speaker")

        v, offer, answer = await mh.viewer(h, "V", audio_lines=1, video_lines=1)
        peers.append(v)
        check("a=recvonly" in offer and "a=sendonly" in answer,
              "V offered recvonly, caud answered sendonly")
        check(answer.count("a=ssrc:") == 4, "the answer announces one SSRC per m-line")

        ok = await wait_until(lambda: e.video_frames >= 30 and e.audio_packets >= 25, 20)
        check(ok, "E, viewing before A published, decodes A (%d frames, %d audio)"
              % (e.video_frames, e.audio_packets))

        # 1. A speaks: V decodes A
        ok = await wait_until(lambda: v.video_frames >= 30 and one_pad(v) is not None, 20)
        check(ok and one_pad(v) < DARK, "V decodes A's dark picture (%d frames, luma %s)"
              % (v.video_frames, v.luma))
        ok, n = await grows(v)
        check(ok, "V's video and audio grow (%s)" % (n,))

        # 2. C speaks: V re-bound to C's camera on the same stream
        mark = len(h.events)
        mh.set_volume(a, 0.0)
        mh.set_volume(c, 1.0)
        await h.wait(lambda m: m.get("op") == "active-speaker" and m.get("participant") == "C",
                     10, "C as active speaker", mark)
        ok = await wait_until(lambda: (one_pad(v) or 0) > BRIGHT, 20)
        check(ok, "V now decodes C's bright bars (luma %s)" % v.luma)
        ok, n = await grows(v)
        check(ok and len(v.pad_frames) == 1,
              "frames keep coming on V's one video stream after the switch (%s, pads %s)"
              % (n, v.pad_frames))

        # 3. C unpublishes: back to A
        h.send({"op": "unpublish", "participant": "C"})
        ok = await wait_until(lambda: (one_pad(v) or 255) < DARK, 20)
        check(ok, "C unpublished: V decodes A again (luma %s)" % v.luma)
        ok, n = await grows(v)
        check(ok and len(v.pad_frames) == 1,
              "frames keep coming, still one stream (%s, pads %s)" % (n, v.pad_frames))
        c.stop()

        # 4. a screen share on the second video m-line of another viewer
        sig = h.sig("S")
        # The harness takes the screen mids with the publish request.
        orig_request = sig.request

        async def request_with_screen(msg, timeout=15):
            if msg.get("type") == "publish":
                msg = dict(msg, screen_mids=[l[6:].strip() for l in msg["sdp"].splitlines()
                                             if l.startswith("a=mid:video")])
            return await orig_request(msg, timeout)
        sig.request = request_with_screen
        s_peer, _ = await mh.publish(h, "S", pipeline=mh.speaker_pipeline(0.0, 550, "smpte"),
                                     prepare=mh.add_audio_level_extension)
        peers.append(s_peer)
        check(any(m.get("source") == "screen" for m in h.find("track-added", participant="S")),
              "S's video is a screen share")
        w, _, answer_w = await mh.viewer(h, "W", audio_lines=1, video_lines=2)
        peers.append(w)
        ok = await wait_until(lambda: len(w.luma) == 2 and
                              min(w.pad_frames.values() or [0]) >= 20, 20)
        lumas = sorted(w.luma.values())
        log("W: frames %s, luma %s" % (w.pad_frames, w.luma))
        check(ok and lumas[0] < DARK and lumas[1] > BRIGHT,
              "W decodes A's camera and S's screen on its two video m-lines (%s)" % w.luma)
        ok, n = await grows(v)
        check(ok, "V still decodes (%s)" % (n,))
    finally:
        for p in peers:
            p.stop()
        rc = h.close()
    check(rc == 0, "media-harness exited cleanly (%s)" % rc)


if __name__ == "__main__":
    run_test(lambda _caud: main(), needs_caud=False, deadline=200)
