"""aiortc test peers (python3-aiortc 1.4 / aioice 0.8).

LAB-NOTES: aioice drops 127.0.0.1 from its host candidates, so we override
aioice.ice.get_host_addresses to return only 127.0.0.1 (which also keeps the
peers off every other interface), and use RTCConfiguration(iceServers=[]).
"""

import asyncio
import time

import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: ["127.0.0.1"]

import av  # noqa: E402
import numpy  # noqa: E402
from aiortc import (RTCConfiguration, RTCPeerConnection,  # noqa: E402
                    RTCSessionDescription, MediaStreamTrack)
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack  # noqa: E402
from aiortc.sdp import candidate_from_sdp  # noqa: E402

from cauharness import log  # noqa: E402


class MovingBarsTrack(VideoStreamTrack):
    """320x240 frames with a moving bar, so the encoder makes real deltas."""

    def __init__(self):
        super().__init__()
        self.n = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        img = numpy.zeros((240, 320, 3), numpy.uint8)
        x = (self.n * 4) % 320
        img[:, x:x + 16, :] = (255, 200, 40)
        img[(self.n * 2) % 240, :, :] = (40, 120, 255)
        self.n += 1
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


class ToneTrack(AudioStreamTrack):
    """A 440 Hz tone (aiortc's AudioStreamTrack is silence)."""

    def __init__(self):
        super().__init__()
        self.t = 0

    async def recv(self):
        frame = await super().recv()
        n = frame.samples
        t = (numpy.arange(n) + self.t) / frame.sample_rate
        self.t += n
        samples = (numpy.sin(2 * numpy.pi * 440 * t) * 8000).astype(numpy.int16)
        out = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        out.sample_rate = frame.sample_rate
        out.pts = frame.pts
        out.time_base = frame.time_base
        return out


def strip_extmap(sdp, uri_part):
    """@sdp without the a=extmap lines naming @uri_part.

    aiortc 1.4 keeps one header-extension map per bundled transport, so when
    audio and video m-lines give one id to different extensions (aiortc's own
    offers do: id 2 is ssrc-audio-level for audio, abs-send-time for video)
    its receiver fails to parse the packets and closes DTLS
    ("struct.error: unpack requires a buffer of 4 bytes")."""
    return "".join(l for l in sdp.splitlines(True)
                   if not (l.startswith("a=extmap:") and uri_part in l))


def extmap_conflicts(sdp):
    """[(id, {uris})] for extmap ids that name different extensions in
    different m-lines of one SDP (the aiortc 1.4 trap above)."""
    seen = {}
    for line in sdp.splitlines():
        if line.startswith("a=extmap:"):
            ident, uri = line[9:].split(None, 1)
            seen.setdefault(ident.split("/")[0], set()).add(uri.strip())
    return [(k, v) for k, v in seen.items() if len(v) > 1]


def new_pc():
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def selected_remote(pc):
    """(ip, port) of the nominated pair's remote candidate, or None."""
    for t in pc.getTransceivers():
        for side in (t.sender, t.receiver):
            dtls = side.transport
            if dtls is None:
                continue
            conn = dtls.transport._connection
            pair = conn._nominated.get(1)
            if pair is not None:
                return pair.remote_candidate.host, pair.remote_candidate.port
    return None


def selected_local(pc):
    for t in pc.getTransceivers():
        for side in (t.sender, t.receiver):
            dtls = side.transport
            if dtls is None:
                continue
            pair = dtls.transport._connection._nominated.get(1)
            if pair is not None:
                return pair.local_addr
    return None


async def add_remote_candidate(pc, c):
    if not c or not c.get("candidate"):
        return
    s = c["candidate"]
    if s.startswith("a="):
        s = s[2:]
    if s.startswith("candidate:"):
        s = s[len("candidate:"):]
    try:
        cand = candidate_from_sdp(s)
        cand.sdpMid = c.get("sdpMid")
        cand.sdpMLineIndex = c.get("sdpMLineIndex")
        await pc.addIceCandidate(cand)
    except Exception as e:  # server candidates are also in the SDP
        log("aiortc: remote candidate %r not added: %s" % (c, e))


class Counter:
    def __init__(self):
        self.video_frames = 0
        self.audio_frames = 0
        self.tasks = []
        self.last_frame_size = None

    def consume(self, track: MediaStreamTrack):
        async def run():
            try:
                while True:
                    frame = await track.recv()
                    if track.kind == "video":
                        self.video_frames += 1
                        self.last_frame_size = (frame.width, frame.height)
                    else:
                        self.audio_frames += 1
            except Exception:
                pass
        self.tasks.append(asyncio.get_running_loop().create_task(run()))


async def publish(sig, pc=None):
    """Publishes synthetic video + audio over @sig (joined).  Returns
    (pc, answer SDP)."""
    pc = pc or new_pc()
    pc.addTransceiver(MovingBarsTrack(), direction="sendonly")
    pc.addTransceiver(ToneTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())

    async def on_trickle(msg):
        if msg.get("pc") == "publish":
            await add_remote_candidate(pc, msg.get("candidate"))
    sig.handlers["trickle"] = on_trickle
    reply = await sig.request({"type": "publish", "sdp": pc.localDescription.sdp}, timeout=20)
    if reply.get("type") != "publish-answer":
        raise AssertionError("publish refused: %s" % reply)
    await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
    # aiortc puts every candidate in the SDP; say so for trickle-minded servers.
    await sig.send({"type": "trickle", "pc": "publish", "candidate": None})
    return pc, reply["sdp"]


async def subscribe(sig, pc=None):
    """Answers every subscribe-offer on @sig.  Returns (pc, counter, info)."""
    pc = pc or new_pc()
    counter = Counter()
    info = {"offers": [], "answers": [], "replies": []}
    lock = asyncio.Lock()

    @pc.on("track")
    def on_track(track):
        log("aiortc subscriber: track %s" % track.kind)
        counter.consume(track)

    async def on_offer(msg):
        async with lock:
            info["offers"].append(msg["sdp"])
            await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            info["answers"].append(pc.localDescription.sdp)
            reply = await sig.request({"type": "subscribe-answer",
                                       "sdp": pc.localDescription.sdp,
                                       "version": msg.get("version")})
            info["replies"].append(reply)
            if len(info["answers"]) == 1:
                await sig.send({"type": "trickle", "pc": "subscribe", "candidate": None})

    async def on_trickle(msg):
        if msg.get("pc") == "subscribe":
            await add_remote_candidate(pc, msg.get("candidate"))

    sig.handlers["subscribe-offer"] = on_offer
    sig.handlers["trickle"] = on_trickle
    return pc, counter, info


async def wait_until(pred, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        await asyncio.sleep(step)
    return pred()




class Call:
    """The set-up several tests share: over caud's WSS, A publishes aiortc
    video + audio and B subscribes (its subscribe-offer handler is in place
    before it joins).  After start(): sa/sb (Signaling), pa/pb (peer
    connections), answer (A's publish answer), counter and info (B's, from
    subscribe()).  Always close(), also when start() failed half-way."""

    def __init__(self, ws_url, room):
        self.ws_url = ws_url
        self.room = room
        self.sa = self.sb = self.pa = self.pb = None
        self.answer = self.counter = self.info = None

    async def start(self, name_a="Peer A (aiortc)", name_b="Peer B (aiortc)",
                    connect_timeout=15):
        from cauharness import Signaling, check
        self.sa = await Signaling(self.ws_url, "A").connect()
        self.sb = await Signaling(self.ws_url, "B").connect()
        await self.sa.join(self.room, name_a)
        self.pa, self.answer = await publish(self.sa)
        check(await wait_until(lambda: self.pa.connectionState == "connected", connect_timeout),
              "A's publish connection reaches connected (%s)" % self.pa.connectionState)
        self.pb, self.counter, self.info = await subscribe(self.sb)
        await self.sb.join(self.room, name_b)
        return self

    async def close(self):
        for sig in (self.sa, self.sb):
            if sig:
                await sig.close()
        for pc in (self.pa, self.pb):
            if pc:
                await pc.close()
