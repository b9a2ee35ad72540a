#!/usr/bin/python3
"""Self-test of the test peers, without caud: a webrtcbin publisher talks
straight to a webrtcbin answerer, and an aiortc publisher to an aiortc
answerer, on 127.0.0.1.  Asserts that frames are decoded and audio packets
arrive.  When this passes and a relay test fails, the fault is in caud."""

import asyncio

from cauharness import check, log, run_test, sdp_candidates
import peers_aiortc
from peers_aiortc import wait_until
from peers_gst import GstPeer


async def gst_direct():
    a = GstPeer("A", "publish")
    b = GstPeer("B", "subscribe")
    try:
        offer = await a.create_offer()
        check(len(sdp_candidates(offer)) > 0, "webrtcbin offer carries candidates after gathering")
        check(all(c[0] == "127.0.0.1" for c in sdp_candidates(offer)),
              "webrtcbin gathers on 127.0.0.1 only: %s" % sdp_candidates(offer))
        check("ssrc:%d" % 0x1234A001 in offer, "video a=ssrc in the offer")
        answer = await b.answer_offer(offer)
        check("a=recvonly" in answer, "webrtcbin answerer is recvonly")
        await a.set_remote(answer, "answer")
        ok = await wait_until(lambda: b.video_frames >= 30 and b.audio_packets > 0, 20)
        log("B: %d video frames, %d audio packets" % (b.video_frames, b.audio_packets))
        check(ok, "webrtcbin direct: >= 30 VP8 frames decoded and audio received")
        remote = await b.selected_remote()
        a_cands = [(c[0], c[1]) for c in sdp_candidates(offer)]
        b_cands = [(c[0], c[1]) for c in sdp_candidates(answer)]
        log("B selected remote %r; A's candidates %r, B's %r" % (remote, a_cands, b_cands))
        check(remote is not None and remote in a_cands,
              "selected-pair lookup: B's remote candidate is A's socket")
        check(await a.selected_remote() in b_cands,
              "selected-pair lookup: A's remote candidate is B's socket")
    finally:
        a.stop()
        b.stop()


async def aiortc_direct():
    a = peers_aiortc.new_pc()
    a.addTransceiver(peers_aiortc.MovingBarsTrack(), direction="sendonly")
    a.addTransceiver(peers_aiortc.ToneTrack(), direction="sendonly")
    b = peers_aiortc.new_pc()
    counter = peers_aiortc.Counter()
    b.on("track", counter.consume)
    try:
        await a.setLocalDescription(await a.createOffer())
        check(all(c[0] == "127.0.0.1" for c in sdp_candidates(a.localDescription.sdp)),
              "aiortc gathers on 127.0.0.1 only")
        offer = a.localDescription
        # Work around aiortc 1.4's bundled header-extension map (see strip_extmap).
        offer = type(offer)(peers_aiortc.strip_extmap(offer.sdp, "ssrc-audio-level"), "offer")
        await b.setRemoteDescription(offer)
        await b.setLocalDescription(await b.createAnswer())
        await a.setRemoteDescription(b.localDescription)
        ok = await wait_until(lambda: counter.video_frames >= 30 and counter.audio_frames > 0, 20)
        log("aiortc B: %d video frames, %d audio frames" % (counter.video_frames, counter.audio_frames))
        check(ok, "aiortc direct: >= 30 frames decoded and audio received")
        check(peers_aiortc.selected_remote(b) == peers_aiortc.selected_local(a),
              "aiortc selected-pair lookup works")
    finally:
        await a.close()
        await b.close()


async def main(_caud):
    await gst_direct()
    await aiortc_direct()


if __name__ == "__main__":
    run_test(main, needs_caud=False, deadline=100)
