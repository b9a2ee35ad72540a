#!/usr/bin/python3
"""Three kinds of client in one room, and a participant replaced mid-call.

A publishes from aiortc (Opus at PT 96, VP8 at 97), B from GStreamer
webrtcbin (VP8 at 96, Opus at 97): the payload type numbers clash, so caud
must map them per subscriber.  C (aiortc) subscribes and must decode video
from both publishers and receive both audio tracks.

Then A leaves: C gets a new subscribe-offer in which A's m-lines are
inactive.  D (aiortc) joins and publishes: caud reuses the inactive m-lines
for D's tracks with new SSRCs, C accepts the offer, and B's media keeps
flowing to C throughout.  (aiortc 1.4 binds an m-line to its first SSRC, so
C cannot decode D on the reused m-lines; Chromium does, which
tests/browser checks.)"""

import asyncio

from aiortc import RTCSessionDescription

from cauharness import Signaling, check, log, run_test
import peers_aiortc
import peers_gst
from peers_aiortc import wait_until

ROOM = "it-mixed-room"


class PerTrackCounter:
    """Counts decoded frames per receiving track (one per m-line)."""

    def __init__(self):
        self.frames = {}   # track -> count
        self.kinds = {}

    def consume(self, track):
        self.frames[track] = 0
        self.kinds[track] = track.kind

        async def run():
            try:
                while True:
                    await track.recv()
                    self.frames[track] += 1
            except Exception:
                pass
        asyncio.get_running_loop().create_task(run())

    def counts(self, kind):
        return [n for t, n in self.frames.items() if self.kinds[t] == kind]


async def subscribe_counting(sig):
    pc = peers_aiortc.new_pc()
    counter = PerTrackCounter()
    info = {"offers": [], "replies": []}
    lock = asyncio.Lock()

    @pc.on("track")
    def on_track(track):
        counter.consume(track)

    async def on_offer(msg):
        async with lock:
            info["offers"].append(msg["sdp"])
            await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            reply = await sig.request({"type": "subscribe-answer",
                                       "sdp": pc.localDescription.sdp,
                                       "version": msg.get("version")})
            info["replies"].append(reply)
            if len(info["replies"]) == 1:
                await sig.send({"type": "trickle", "pc": "subscribe", "candidate": None})

    async def on_trickle(msg):
        if msg.get("pc") == "subscribe":
            await peers_aiortc.add_remote_candidate(pc, msg.get("candidate"))

    sig.handlers["subscribe-offer"] = on_offer
    sig.handlers["trickle"] = on_trickle
    return pc, counter, info


def payload_types(sdp, kind):
    """The payload types of the m-lines of @kind in @sdp."""
    pts = []
    for line in sdp.splitlines():
        if line.startswith("m=" + kind):
            pts.extend(int(p) for p in line.split()[3:])
    return pts


async def main(caud):
    sa = await Signaling(caud.ws_url, "A").connect()
    sb = await Signaling(caud.ws_url, "B").connect()
    sc = await Signaling(caud.ws_url, "C").connect()
    sd = None
    pa = pb = pc_ = pd = None
    try:
        await sa.join(ROOM, "A aiortc")
        pa, answer_a = await peers_aiortc.publish(sa)
        await sb.join(ROOM, "B webrtcbin")
        pb, answer_b = await peers_gst.drive_publisher(sb, "B")
        check(set(payload_types(pa.localDescription.sdp, "audio")) &
              set(payload_types(pb.local_sdp(), "video")) or
              set(payload_types(pa.localDescription.sdp, "video")) &
              set(payload_types(pb.local_sdp(), "audio")),
              "the two publishers' offers use one PT number for different codecs")

        pc_, counter, info = await subscribe_counting(sc)
        await sc.join(ROOM, "C aiortc")
        ok = await wait_until(lambda: len(counter.counts("video")) == 2 and
                              min(counter.counts("video")) >= 20 and
                              len(counter.counts("audio")) == 2 and
                              min(counter.counts("audio")) > 0, 25)
        log("C: video frames per track %s, audio frames per track %s; offers %d, replies %s"
            % (counter.counts("video"), counter.counts("audio"), len(info["offers"]),
               [r.get("type") for r in info["replies"]]))
        check(all(r.get("type") == "ok" for r in info["replies"]),
              "caud accepted every subscribe-answer")
        check(ok, "C decodes video from both publishers and audio from both")

        # A leaves; its m-lines go inactive in C's next offer.
        offers_before = len(info["offers"])
        await sa.request({"type": "leave"})
        await pa.close()
        pa = None
        check(await wait_until(lambda: len(info["offers"]) > offers_before, 10),
              "C gets a new subscribe-offer after A leaves")
        check("a=inactive" in info["offers"][-1], "A's m-lines are inactive in it")
        n_mlines = info["offers"][-1].count("\nm=")

        # D joins and publishes: the inactive m-lines are reused.
        before = dict(counter.frames)
        sd = await Signaling(caud.ws_url, "D").connect()
        await sd.join(ROOM, "D aiortc")
        pd, _ = await peers_aiortc.publish(sd)

        def b_flowing():
            grown = [t for t, n in counter.frames.items()
                     if counter.kinds[t] == "video" and n > before.get(t, 0) + 20]
            return len(grown) >= 1 and len(info["replies"]) >= offers_before + 2
        ok = await wait_until(b_flowing, 25)
        last = info["offers"][-1]
        log("C after D: video frames per track %s (before %s)"
            % (counter.counts("video"), [n for t, n in before.items() if counter.kinds[t] == "video"]))
        check(last.count("\nm=") == n_mlines,
              "D's tracks reuse A's m-lines (%d m-lines)" % n_mlines)
        check("a=inactive" not in last and last.count("a=sendonly") == n_mlines,
              "every m-line is active again in C's last offer")
        check(all(r.get("type") == "ok" for r in info["replies"]),
              "caud accepted every subscribe-answer: %s" % info["replies"])
        check(ok, "B's video keeps flowing to C while m-lines are reused")
    finally:
        for s in (sa, sb, sc, sd):
            if s:
                await s.close()
        for pc in (pa, pc_, pd):
            if pc:
                await pc.close()
        if pb:
            pb.stop()
    check(caud.alive(), "caud is still running")


if __name__ == "__main__":
    run_test(main, deadline=170)
