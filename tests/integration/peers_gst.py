"""GStreamer webrtcbin test peers (GStreamer 1.22), driven from asyncio.

A GLib main loop runs in a background thread (the default main context);
webrtcbin actions are emitted from that loop (GLib.idle_add) and their
promises are handed back to asyncio futures.  Per LAB-NOTES:
  - the ice-agent's NiceAgent has upnp off and gathers only on 127.0.0.1
    (nice_agent_add_local_address), and we keep references to both;
  - the SSRC is in the payloader caps;
  - create-offer is emitted once, from the main loop, never from
    on-negotiation-needed;
  - get-transceiver by index (get-transceivers fails from Python).
"""

import asyncio
import threading

import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("Nice", "0.1")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Nice  # noqa: E402

from cauharness import log, candidate_addr  # noqa: E402

Gst.init(None)

_glib_loop = None
_glib_lock = threading.Lock()


def _ensure_glib_loop():
    global _glib_loop
    with _glib_lock:
        if _glib_loop is None:
            _glib_loop = GLib.MainLoop()
            threading.Thread(target=_glib_loop.run, daemon=True,
                             name="glib-main").start()


VIDEO_SSRC = 0x1234A001
AUDIO_SSRC = 0x1234A002

VIDEO_ENCODERS = {
    "VP8": ("vp8enc deadline=1 cpu-used=8 target-bitrate=400000 keyframe-max-dist={kfdist} "
            "error-resilient=partitions "
            "! rtpvp8pay pt=96 ssrc={vssrc} picture-id-mode=15-bit "
            "! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000,"
            "ssrc=(uint){vssrc} "),
    # openh264 (plugins-bad): constrained baseline, one IDR a second, SPS/PPS
    # repeated in band so a subscriber that joins late can decode.
    "H264": ("openh264enc bitrate=400000 gop-size=30 complexity=low "
             "! video/x-h264,profile=constrained-baseline "
             "! h264parse ! rtph264pay pt=102 ssrc={vssrc} config-interval=-1 aggregate-mode=zero-latency "
             "! application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
             "packetization-mode=(string)1,ssrc=(uint){vssrc} "),
}

VIDEO_DECODERS = {
    "VP8": ("rtpvp8depay ! vp8dec ! fakesink sync=false async=false", "vp8dec"),
    "H264": ("rtph264depay ! h264parse ! openh264dec ! fakesink sync=false async=false",
             "openh264dec"),
}

PUBLISH_PIPELINE = (
    "webrtcbin name=wb bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=ball "
    "! video/x-raw,width=320,height=240,framerate={fps}/1 "
    "! videoconvert ! queue max-size-buffers=2 leaky=downstream "
    "! {video_encoder}! wb. "
    "audiotestsrc is-live=true wave=sine freq=440 "
    "! audioconvert ! audioresample ! queue ! opusenc bitrate=32000 "
    "! rtpopuspay pt=111 ssrc={assrc} "
    "! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
    "ssrc=(uint){assrc} ! wb. "
)


def sdp_mids(sdp_text):
    mids = []
    for line in sdp_text.splitlines():
        if line.startswith("m="):
            mids.append(None)
        elif line.startswith("a=mid:") and mids:
            mids[-1] = line[6:].strip()
    return mids


class GstPeer:
    """One webrtcbin peer connection with caud.

    role 'publish': sends VP8 + Opus test media (client offers).
    role 'subscribe': receives (server offers, we answer), decodes VP8 and
    counts Opus RTP packets.
    on_candidate(mline_index, candidate) is called on the asyncio loop for
    each local candidate (None at end of gathering)."""

    def __init__(self, name, role, on_candidate=None, video_codec="VP8", fps=30, pipeline=None,
                 prepare=None):
        """pipeline: a publish pipeline description replacing PUBLISH_PIPELINE
        (same {video_encoder}, {vssrc}, {assrc}, {fps} fields and webrtcbin
        name wb); prepare(pipe): called before the pipeline starts."""
        _ensure_glib_loop()
        self.name = name
        self.role = role
        self.loop = asyncio.get_running_loop()
        self.on_candidate = on_candidate
        self.video_frames = 0
        self.pad_frames = {}      # incoming video pad name -> decoded frames
        self.video_codec_received = None
        self.audio_packets = 0
        self.video_rtp_packets = 0
        self.local_candidates = []
        self.ice_state = None
        self.conn_state = None
        self.errors = []
        self._gathered = threading.Event()
        if role == "publish":
            # A key frame a second whatever the frame rate.
            encoder = VIDEO_ENCODERS[video_codec].format(vssrc=VIDEO_SSRC, kfdist=fps)
            self.pipe = Gst.parse_launch((pipeline or PUBLISH_PIPELINE).format(
                video_encoder=encoder, vssrc=VIDEO_SSRC, assrc=AUDIO_SSRC, fps=fps))
            self.wb = self.pipe.get_by_name("wb")
        else:
            self.pipe = Gst.Pipeline.new(name)
            self.wb = Gst.ElementFactory.make("webrtcbin", "wb")
            self.wb.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
            self.pipe.add(self.wb)
            self.wb.connect("pad-added", self._on_pad_added)
        # LAB-NOTES: keep the ice object and its agent referenced.
        self.ice = self.wb.get_property("ice-agent")
        self.agent = self.ice.get_property("agent")
        self.agent.set_property("upnp", False)
        self.agent.set_property("ice-tcp", False)
        addr = Nice.Address.new()
        addr.set_from_string("127.0.0.1")
        self.agent.add_local_address(addr)
        self.wb.connect("on-ice-candidate", self._on_ice_candidate)
        self.wb.connect("notify::ice-gathering-state", self._on_gathering)
        self.wb.connect("notify::ice-connection-state", self._on_ice_state)
        self.wb.connect("notify::connection-state", self._on_conn_state)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self._on_error)
        if role == "publish":
            for i in range(2):
                t = self.wb.emit("get-transceiver", i)
                if t is not None:
                    t.set_property("direction",
                                   GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        if prepare:
            prepare(self.pipe)
        self.pipe.set_state(Gst.State.PLAYING)

    # -- callbacks (GStreamer threads)
    def _on_error(self, bus, msg):
        err, dbg = msg.parse_error()
        self.errors.append("%s: %s" % (err.message, dbg))
        log("%s: pipeline error: %s (%s)" % (self.name, err.message, dbg))

    def _on_ice_candidate(self, wb, mline, cand):
        self.local_candidates.append((mline, cand))
        if self.on_candidate:
            self.loop.call_soon_threadsafe(self.on_candidate, mline, cand)

    def _on_gathering(self, wb, pspec):
        st = wb.get_property("ice-gathering-state")
        if st == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            self._gathered.set()
            if self.on_candidate:
                self.loop.call_soon_threadsafe(self.on_candidate, None, None)

    def _on_ice_state(self, wb, pspec):
        self.ice_state = wb.get_property("ice-connection-state").value_nick
        log("%s: ice %s" % (self.name, self.ice_state))

    def _on_conn_state(self, wb, pspec):
        self.conn_state = wb.get_property("connection-state").value_nick
        log("%s: connection %s" % (self.name, self.conn_state))

    def _on_pad_added(self, wb, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        caps = pad.get_current_caps() or pad.query_caps(None)
        s = caps.get_structure(0)
        media = s.get_string("media")
        enc = (s.get_string("encoding-name") or "").upper()
        log("%s: incoming %s %s pad %s" % (self.name, media, enc, pad.get_name()))
        decoder = VIDEO_DECODERS.get(enc) if media == "video" else None
        chain = decoder[0] if decoder else "fakesink sync=false async=false"
        if media == "audio":
            pad.add_probe(Gst.PadProbeType.BUFFER, self._count_audio)
        elif media == "video":
            pad.add_probe(Gst.PadProbeType.BUFFER, self._count_video_rtp)
        bin_ = Gst.parse_bin_from_description(chain, True)
        self.pipe.add(bin_)
        bin_.sync_state_with_parent()
        if decoder:
            self.video_codec_received = enc
            dec = [e for e in bin_.iterate_elements() if e.get_factory().get_name() == decoder[1]][0]
            dec.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self._count_frame)
            name = pad.get_name()
            self.pad_frames[name] = 0

            def count_pad(_pad, _info, name=name):
                self.pad_frames[name] += 1
                return Gst.PadProbeReturn.OK
            dec.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, count_pad)
        pad.link(bin_.get_static_pad("sink"))

    def _count_frame(self, pad, info):
        self.video_frames += 1
        return Gst.PadProbeReturn.OK

    def _count_audio(self, pad, info):
        self.audio_packets += 1
        return Gst.PadProbeReturn.OK

    def _count_video_rtp(self, pad, info):
        self.video_rtp_packets += 1
        return Gst.PadProbeReturn.OK

    # -- promise plumbing
    def _emit_with_promise(self, signal, *args):
        fut = self.loop.create_future()

        def done(promise):
            reply = promise.get_reply()
            self.loop.call_soon_threadsafe(
                lambda: fut.done() or fut.set_result(reply))

        def emit():
            promise = Gst.Promise.new_with_change_func(done)
            self.wb.emit(signal, *(args + (promise,)))
            return False
        GLib.idle_add(emit)
        return fut

    async def _wait_gathered(self, timeout=10):
        ok = await self.loop.run_in_executor(None, self._gathered.wait, timeout)
        if not ok:
            log("%s: ICE gathering not complete after %ss; sending what we have"
                % (self.name, timeout))

    def local_sdp(self):
        d = self.wb.get_property("local-description")
        return d.sdp.as_text() if d is not None else None

    def remote_sdp(self):
        d = self.wb.get_property("remote-description")
        return d.sdp.as_text() if d is not None else None

    # -- offer/answer
    async def create_offer(self, timeout=15):
        """Creates and sets the local offer; returns its SDP text once ICE
        gathering is complete (so it carries our candidates)."""
        reply = await asyncio.wait_for(self._emit_with_promise("create-offer", None), timeout)
        offer = reply.get_value("offer")
        if offer is None:
            raise RuntimeError("%s: create-offer gave no offer: %s" % (self.name, reply.to_string()))
        await asyncio.wait_for(self._emit_with_promise("set-local-description", offer), timeout)
        await self._wait_gathered()
        return self.local_sdp()

    async def set_remote(self, sdp_text, kind, timeout=15):
        res, msg = GstSdp.SDPMessage.new_from_text(sdp_text)
        if res != GstSdp.SDPResult.OK:
            raise RuntimeError("%s: remote SDP does not parse" % self.name)
        t = (GstWebRTC.WebRTCSDPType.ANSWER if kind == "answer"
             else GstWebRTC.WebRTCSDPType.OFFER)
        desc = GstWebRTC.WebRTCSessionDescription.new(t, msg)
        await asyncio.wait_for(self._emit_with_promise("set-remote-description", desc), timeout)

    async def answer_offer(self, sdp_text, timeout=15):
        """Sets the server's offer, creates and sets our answer (recvonly),
        returns its SDP text after gathering."""
        # On a renegotiation gathering is already complete and stays so.
        if self.wb.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            self._gathered.clear()
        await self.set_remote(sdp_text, "offer", timeout)
        reply = await asyncio.wait_for(self._emit_with_promise("create-answer", None), timeout)
        answer = reply.get_value("answer")
        if answer is None:
            raise RuntimeError("%s: create-answer gave no answer: %s" % (self.name, reply.to_string()))
        await asyncio.wait_for(self._emit_with_promise("set-local-description", answer), timeout)
        await self._wait_gathered()
        return self.local_sdp()

    def add_remote_candidate(self, mline, cand):
        if not cand:
            return
        c = cand if cand.startswith("candidate:") or cand.startswith("a=") else "candidate:" + cand
        GLib.idle_add(lambda: self.wb.emit("add-ice-candidate", mline, c) and False)

    # -- inspection
    async def _selected_pair(self, timeout=5):
        """((local ip, port), (remote ip, port)) of the selected ICE pair
        from webrtcbin's get-stats, or None.

        GStreamer 1.22 labels the two candidate entries with swapped types
        (the entry typed "remote-candidate" has id "ice-candidate-local_..."),
        so we follow the pair's local-/remote-candidate-id and ignore the
        type of the entry they name; test_peers_selftest checks that the
        remote found this way is the other peer's socket."""
        try:
            stats = await asyncio.wait_for(self._emit_with_promise("get-stats", None), timeout)
        except asyncio.TimeoutError:
            return None
        if stats is None:
            return None
        entries = {}
        stats.foreach(lambda fid, val, *_: entries.__setitem__(fid, val) or True, None)
        cands = {}
        pairs = []
        for st in entries.values():
            if not isinstance(st, Gst.Structure):
                continue
            ok, typ = st.get_enum("type", GstWebRTC.WebRTCStatsType.__gtype__)
            if not ok:
                continue
            if typ in (GstWebRTC.WebRTCStatsType.REMOTE_CANDIDATE,
                       GstWebRTC.WebRTCStatsType.LOCAL_CANDIDATE):
                ok_p, port = st.get_uint("port")
                cands[st.get_string("id")] = (st.get_string("address"), port if ok_p else None)
            elif typ == GstWebRTC.WebRTCStatsType.CANDIDATE_PAIR:
                pairs.append((st.get_string("local-candidate-id"),
                              st.get_string("remote-candidate-id")))
        for lid, rid in pairs:
            if lid in cands and rid in cands:
                return cands[lid], cands[rid]
        return None

    async def selected_remote(self, timeout=5):
        pair = await self._selected_pair(timeout)
        return pair[1] if pair else None

    async def selected_local(self, timeout=5):
        pair = await self._selected_pair(timeout)
        return pair[0] if pair else None

    def stop(self):
        self.pipe.set_state(Gst.State.NULL)


async def drive_publisher(sig, peer_name="A", timeout=20, video_codec="VP8", fps=30,
                          **peer_args):
    """Publishes test media from a webrtcbin peer over @sig (already
    joined).  Returns (peer, publish-answer SDP).  @peer_args go to GstPeer
    (pipeline, prepare)."""
    state = {"offer_sent": False, "queued": [], "mids": []}
    sent_in_sdp = set()

    def on_cand(mline, cand):
        state["queued"].append((mline, cand))
        if state["offer_sent"]:
            _flush()

    def _flush():
        q, state["queued"] = state["queued"], []
        for mline, cand in q:
            if cand is not None and cand in sent_in_sdp:
                continue
            if cand is None:
                c = None
            else:
                mids = state["mids"]
                c = {"candidate": cand, "sdpMLineIndex": mline,
                     "sdpMid": mids[mline] if mline < len(mids) else str(mline)}
            asyncio.get_running_loop().create_task(
                sig.send({"type": "trickle", "pc": "publish", "candidate": c}))

    peer = GstPeer(peer_name, "publish", on_candidate=on_cand, video_codec=video_codec, fps=fps,
                   **peer_args)
    sig.handlers["trickle"] = _remote_trickle(peer, "publish")
    offer = await peer.create_offer()
    state["mids"] = sdp_mids(offer)
    for line in offer.splitlines():
        if line.startswith("a=candidate:"):
            sent_in_sdp.add(line[2:].strip())
    reply = await sig.request({"type": "publish", "sdp": offer}, timeout=timeout)
    if reply.get("type") != "publish-answer":
        raise AssertionError("%s: publish refused: %s" % (peer_name, reply))
    await peer.set_remote(reply["sdp"], "answer")
    state["offer_sent"] = True
    _flush()
    return peer, reply["sdp"]


def _remote_trickle(peer, pc):
    async def handler(msg):
        if msg.get("pc") != pc:
            return
        c = msg.get("candidate")
        if c and c.get("candidate"):
            peer.add_remote_candidate(int(c.get("sdpMLineIndex") or 0), c["candidate"])
    return handler


async def attach_subscriber(sig, peer_name="B"):
    """Creates a receiving webrtcbin peer that answers every
    subscribe-offer on @sig.  Returns (peer, info) where info['offers']
    lists the offer SDPs and info['answers'] the replies."""
    info = {"offers": [], "answers": [], "replies": []}
    state = {"mids": []}
    peer_box = {}

    def on_cand(mline, cand):
        if "answered" not in state:
            state.setdefault("queued", []).append((mline, cand))
            return
        _send_cand(mline, cand)

    def _send_cand(mline, cand):
        if cand is None:
            c = None
        else:
            if cand in state.get("in_sdp", ()):
                return
            mids = state["mids"]
            c = {"candidate": cand, "sdpMLineIndex": mline,
                 "sdpMid": mids[mline] if mline < len(mids) else str(mline)}
        asyncio.get_running_loop().create_task(
            sig.send({"type": "trickle", "pc": "subscribe", "candidate": c}))

    peer = GstPeer(peer_name, "subscribe", on_candidate=on_cand)
    peer_box["p"] = peer
    lock = asyncio.Lock()

    async def on_offer(msg):
        async with lock:
            info["offers"].append(msg["sdp"])
            answer = await peer.answer_offer(msg["sdp"])
            state["mids"] = sdp_mids(answer)
            state["in_sdp"] = {l[2:].strip() for l in answer.splitlines()
                               if l.startswith("a=candidate:")}
            info["answers"].append(answer)
            reply = await sig.request({"type": "subscribe-answer", "sdp": answer,
                                       "version": msg.get("version")})
            info["replies"].append(reply)
            if reply.get("type") != "ok":
                log("%s: subscribe-answer refused: %s" % (peer_name, reply))
            if "answered" not in state:
                state["answered"] = True
                for mline, cand in state.pop("queued", []):
                    _send_cand(mline, cand)

    sig.handlers["subscribe-offer"] = on_offer
    sig.handlers["trickle"] = _remote_trickle(peer, "subscribe")
    return peer, info


__all__ = ["GstPeer", "drive_publisher", "attach_subscriber", "candidate_addr"]
