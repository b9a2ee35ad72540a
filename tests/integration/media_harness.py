"""The media engine alone (media-harness, a C program that links media/),
driven over JSON lines, with real webrtcbin peers: for the issue-6 media
tests (unpublish, source enable, active speaker, Last-N, WHEP view) before
and besides signaling.

- MediaHarness: the process; every message it prints is kept in .events
  (wait() finds them); subscribe offers and trickle candidates are routed
  to the HarnessSig of their participant.
- HarnessSig: what peers_gst.drive_publisher / attach_subscriber need from
  a signaling client.
- speaker_pipeline(): a publish pipeline whose Opus RTP carries RFC 6464
  audio levels (level ! ... ! rtpopuspay + rtphdrextclientaudiolevel), with
  a `volume` element named "vol" to make the peer speak or fall silent.
"""

import asyncio
import json
import os
import subprocess
import threading

import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtp", "1.0")
from gi.repository import Gst, GstRtp  # noqa: E402,F401  (GstRtp: set_id on extensions)

from cauharness import TestFailure, log  # noqa: E402
import peers_gst  # noqa: E402

AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


class MediaHarness:
    def __init__(self):
        exe = os.environ.get("MEDIA_HARNESS")
        if not exe or not os.path.exists(exe):
            raise TestFailure("media-harness not found: set MEDIA_HARNESS (meson does)")
        self.proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1,
                                     env=dict(os.environ, G_MESSAGES_DEBUG="cau-media"))
        self.loop = asyncio.get_running_loop()
        self.events = []
        self.log = []
        self.sigs = {}
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                # GLib writes info and debug messages to stdout.
                self.log.append(line.rstrip())
                continue
            self.loop.call_soon_threadsafe(self._dispatch, msg)

    def _read_err(self):
        for line in self.proc.stderr:
            self.log.append(line.rstrip())

    def _dispatch(self, msg):
        self.events.append(msg)
        op = msg.get("op")
        if op == "error":
            log("harness error: %s" % msg)
        sig = self.sigs.get(msg.get("participant"))
        if sig is None:
            return
        if op == "subscribe-offer" and "subscribe-offer" in sig.handlers:
            self.loop.create_task(sig.handlers["subscribe-offer"]({"sdp": msg["sdp"]}))
        elif op == "candidate" and "trickle" in sig.handlers and msg.get("candidate"):
            self.loop.create_task(sig.handlers["trickle"](
                {"pc": msg["pc"], "candidate": {"candidate": msg["candidate"],
                                                "sdpMLineIndex": 0}}))

    def send(self, msg):
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    async def wait(self, pred, timeout=20, what="message", since=0):
        """The first event at index >= @since matching @pred, as (index, event)."""
        deadline = self.loop.time() + timeout
        while True:
            for i in range(since, len(self.events)):
                if pred(self.events[i]):
                    return i, self.events[i]
            if self.loop.time() > deadline:
                raise TestFailure("media-harness: no %s within %ss (log: %s)"
                                  % (what, timeout, self.log[-20:]))
            await asyncio.sleep(0.05)

    def find(self, op, since=0, **fields):
        return [m for m in self.events[since:]
                if m.get("op") == op and all(m.get(k) == v for k, v in fields.items())]

    async def ready(self):
        await self.wait(lambda m: m.get("op") == "ready", what="ready")

    async def stats(self):
        since = len(self.events)
        self.send({"op": "stats"})
        return (await self.wait(lambda m: m.get("op") == "stats", what="stats", since=since))[1]

    def sig(self, participant):
        s = HarnessSig(self, participant)
        self.sigs[participant] = s
        return s

    async def subscribe(self, participant, timeout=20):
        """Asks for a subscribe offer (the participant's sig answers it);
        returns once caud accepted the answer."""
        since = len(self.events)
        self.send({"op": "subscribe-offer", "participant": participant})
        _, m = await self.wait(lambda m: m.get("participant") == participant and
                               m.get("op") in ("subscribe-answered", "error"), timeout,
                               "subscribe-answered for " + participant, since)
        if m["op"] == "error":
            raise TestFailure("subscribe %s: %s" % (participant, m))

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        for line in self.log:
            if "CRITICAL" in line or "WARNING" in line or "speaker" in line:
                log("harness: " + line)
        if os.environ.get("MEDIA_HARNESS_LOG"):
            with open(os.environ["MEDIA_HARNESS_LOG"], "w") as f:
                f.write("\n".join(self.log) + "\n")
        return self.proc.returncode


class HarnessSig:
    """What peers_gst.drive_publisher and attach_subscriber need."""

    def __init__(self, harness, participant):
        self.harness = harness
        self.participant = participant
        self.handlers = {}
        self.received = []

    async def send(self, msg):
        if msg.get("type") == "trickle":
            c = msg.get("candidate")
            self.harness.send({"op": "candidate", "participant": self.participant,
                               "pc": msg.get("pc", "publish"),
                               "candidate": c.get("candidate") if c else None})

    async def request(self, msg, timeout=15):
        t = msg.get("type")
        h = self.harness
        since = len(h.events)
        if t == "publish":
            h.send({"op": "publish", "participant": self.participant, "sdp": msg["sdp"],
                    "screen_mids": msg.get("screen_mids", [])})
            want = "publish-answer"
        elif t == "subscribe-answer":
            h.send({"op": "subscribe-answer", "participant": self.participant,
                    "sdp": msg["sdp"]})
            want = "subscribe-answered"
        else:
            raise TestFailure("harness signaling: cannot %s" % t)
        _, m = await h.wait(lambda m: m.get("participant") == self.participant and
                            m.get("op") in (want, "error"), timeout, want, since)
        if m["op"] == "error":
            return {"type": "error", "message": m.get("message")}
        if want == "publish-answer":
            return {"type": "publish-answer", "sdp": m["sdp"]}
        return {"type": "ok"}


# A publisher whose audio carries RFC 6464 levels.  The sine's loudness is
# the `volume` element "vol" (0 = silence): level measures after it.
SPEAKER_PIPELINE = (
    "webrtcbin name=wb bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern={pattern} "
    "! video/x-raw,width=320,height=240,framerate=15/1 "
    "! videoconvert ! queue max-size-buffers=2 leaky=downstream "
    "! {video_encoder}! wb. "
    "audiotestsrc is-live=true wave=sine freq={freq} volume=0.5 "
    "! volume name=vol volume={volume} "
    "! audioconvert ! audioresample ! level audio-level-meta=true "
    "! queue ! opusenc bitrate=32000 "
    "! rtpopuspay name=apay pt=111 ssrc={assrc} "
    "! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
    "encoding-params=(string)2,"
    "extmap-1=(string)< \"\", \"urn:ietf:params:rtp-hdrext:ssrc-audio-level\", \"vad=on\" >,"
    "ssrc=(uint){assrc} ! wb. "
)
# (encoding-params and extmap-1 in the caps: the offer is written from
# these caps when the payloader has not negotiated yet)


def speaker_pipeline(volume=0.0, freq=440, pattern="ball"):
    return (SPEAKER_PIPELINE.replace("{volume}", str(volume)).replace("{freq}", str(freq))
            .replace("{pattern}", pattern))


def add_audio_level_extension(pipe, ext_id=1):
    pay = pipe.get_by_name("apay")
    ext = Gst.ElementFactory.make("rtphdrextclientaudiolevel", None)
    if pay is None or ext is None:
        raise TestFailure("no rtpopuspay named apay or no rtphdrextclientaudiolevel")
    ext.set_id(ext_id)
    pay.emit("add-extension", ext)


def set_volume(peer, volume):
    peer.pipe.get_by_name("vol").set_property("volume", volume)


async def publish(harness, participant, timeout=20, **peer_args):
    """A webrtcbin publisher in the harness's room, connected."""
    sig = harness.sigs.get(participant) or harness.sig(participant)
    peer, answer = await peers_gst.drive_publisher(sig, participant, timeout=timeout,
                                                   **peer_args)
    for _ in range(int(timeout * 10)):
        if peer.conn_state == "connected":
            return peer, answer
        await asyncio.sleep(0.1)
    raise TestFailure("%s: publish not connected (%s, errors %s)"
                      % (participant, peer.conn_state, peer.errors))


async def publish_speaker(harness, participant, volume=0.0, freq=440, pattern="ball"):
    return await publish(harness, participant,
                         pipeline=speaker_pipeline(volume, freq, pattern),
                         prepare=add_audio_level_extension)


async def subscriber(harness, participant):
    """A webrtcbin subscriber (answers the harness's subscribe offers)."""
    sig = harness.sigs.get(participant) or harness.sig(participant)
    peer, info = await peers_gst.attach_subscriber(sig, participant)
    return peer, info


async def viewer(harness, participant, audio_lines=1, video_lines=1, timeout=20):
    """A WHEP-style viewer: a webrtcbin peer that *offers* recvonly
    m-lines (Opus, VP8) to media_engine_view and decodes what comes
    (mean luma per video pad in peer.luma, see watch_luma).  Returns (peer, offer SDP, answer SDP)."""
    from gi.repository import GstWebRTC
    peer = peers_gst.GstPeer(participant, "subscribe")
    watch_luma(peer)
    recvonly = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY
    for _ in range(audio_lines):
        peer.wb.emit("add-transceiver", recvonly, Gst.Caps.from_string(
            "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
            "encoding-params=(string)2"))
    for _ in range(video_lines):
        peer.wb.emit("add-transceiver", recvonly, Gst.Caps.from_string(
            "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000,"
            "rtcp-fb-nack-pli=(boolean)true"))
    offer = await peer.create_offer()
    since = len(harness.events)
    harness.send({"op": "view", "participant": participant, "sdp": offer})
    _, m = await harness.wait(lambda m: m.get("participant") == participant and
                              m.get("op") in ("view-answer", "error"), timeout,
                              "view-answer", since)
    if m["op"] == "error":
        raise TestFailure("view %s: %s" % (participant, m))
    await peer.set_remote(m["sdp"], "answer")
    return peer, offer, m["sdp"]


def watch_luma(peer):
    """Mean luma of the last decoded frame per video pad of @peer
    (a subscribe GstPeer), in peer.luma[pad name]."""
    import numpy
    peer.luma = {}

    def attach(_wb, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        name = pad.get_name()

        def on_linked(*_):
            peer_pad = pad.get_peer()
            if peer_pad is None:
                return
            bin_ = peer_pad.get_parent_element()
            for e in bin_.iterate_elements():
                if e.get_factory().get_name() == "vp8dec":
                    def probe(p, info, name=name):
                        buf = info.get_buffer()
                        caps = p.get_current_caps()
                        if caps is None:
                            return Gst.PadProbeReturn.OK
                        s = caps.get_structure(0)
                        w, h = s.get_value("width"), s.get_value("height")
                        ok, mi = buf.map(Gst.MapFlags.READ)
                        if ok:
                            y = numpy.frombuffer(mi.data, dtype=numpy.uint8, count=w * h)
                            peer.luma[name] = float(y.mean())
                            buf.unmap(mi)
                        return Gst.PadProbeReturn.OK
                    e.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, probe)
        if pad.is_linked():
            on_linked()
        else:
            pad.connect("linked", on_linked)
    peer.wb.connect("pad-added", attach)
