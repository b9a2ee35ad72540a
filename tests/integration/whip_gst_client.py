#!/usr/bin/python3
"""A WHIP (RFC 9725) and WHEP client built on GStreamer's webrtcbin and
Python's http.client — independent of caud's code and of the test
harness's signaling, so that a test using it shows that a third-party
WHIP client works with caud.

    WhipClient(url, token).publish()   videotestsrc/audiotestsrc → VP8/Opus
                                       → webrtcbin; POST the offer (after ICE
                                       gathering, no trickle), set the answer
    WhipClient(url, token).view()      a recvonly offer (WHEP); decodes VP8
    .delete()                          DELETE the Location

Standalone:  whip_gst_client.py https://host:8443/whip/<briefing> <token> [seconds]

Traffic stays on 127.0.0.1: libnice gathers only that address, UPnP off
(LAB-NOTES "Traffic stays on this machine").  Run with /usr/bin/python3.
"""

import http.client
import ssl
import sys
import threading
import time
import urllib.parse

import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("Nice", "0.1")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Nice  # noqa: E402

Gst.init(None)

VIDEO_SSRC = 0x5A1F0001
AUDIO_SSRC = 0x5A1F0002

PUBLISH = (
    "webrtcbin name=wb bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=smpte "
    "! video/x-raw,width=320,height=240,framerate=15/1 ! videoconvert "
    "! queue max-size-buffers=2 leaky=downstream "
    "! vp8enc deadline=1 cpu-used=8 target-bitrate=300000 keyframe-max-dist=15 "
    "! rtpvp8pay pt=96 ssrc={v} picture-id-mode=15-bit "
    "! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000,ssrc=(uint){v} "
    "! wb. "
    "audiotestsrc is-live=true wave=sine freq=660 ! audioconvert ! audioresample ! queue "
    "! opusenc bitrate=32000 ! rtpopuspay pt=111 ssrc={a} "
    "! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,ssrc=(uint){a} "
    "! wb. "
)


class HttpReply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # lower-case names
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "HttpReply(%d, %r)" % (self.status, self.body[:200])


def request(url, method, body=None, headers=None, timeout=20):
    """One HTTPS request (certificate not verified: caud's self-signed)."""
    parts = urllib.parse.urlsplit(url)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443, context=ctx,
                                       timeout=timeout)
    try:
        path = parts.path + ("?" + parts.query if parts.query else "")
        data = body.encode() if isinstance(body, str) else body
        conn.request(method, path, body=data, headers=headers or {})
        r = conn.getresponse()
        raw = r.read()
        return HttpReply(r.status, {k.lower(): v for k, v in r.getheaders()},
                         raw.decode("utf-8", "replace"))
    finally:
        conn.close()


class _Loop:
    """A GLib main loop in a daemon thread; webrtcbin signals are emitted
    from it."""
    loop = None
    lock = threading.Lock()

    @classmethod
    def ensure(cls):
        with cls.lock:
            if cls.loop is None:
                cls.loop = GLib.MainLoop()
                threading.Thread(target=cls.loop.run, daemon=True, name="whip-glib").start()


class WhipClient:
    def __init__(self, endpoint_url, token, log=print):
        _Loop.ensure()
        self.endpoint = endpoint_url
        self.token = token
        self.log = log
        self.location = None
        self.etag = None
        self.answer = None
        self.offer = None
        self.pipe = None
        self.wb = None
        self.video_frames = 0
        self.audio_packets = 0
        self.ice_state = None
        self.errors = []
        self._gathered = threading.Event()

    # -- pipeline
    def _setup(self, pipeline_text=None):
        if pipeline_text:
            self.pipe = Gst.parse_launch(pipeline_text)
            self.wb = self.pipe.get_by_name("wb")
        else:
            self.pipe = Gst.Pipeline.new("whep")
            self.wb = Gst.ElementFactory.make("webrtcbin", "wb")
            self.wb.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
            self.pipe.add(self.wb)
            self.wb.connect("pad-added", self._on_pad_added)
        self.ice = self.wb.get_property("ice-agent")
        self.agent = self.ice.get_property("agent")
        self.agent.set_property("upnp", False)
        self.agent.set_property("ice-tcp", False)
        address = Nice.Address.new()
        address.set_from_string("127.0.0.1")
        self.agent.add_local_address(address)
        self.wb.connect("notify::ice-gathering-state", self._on_gathering)
        self.wb.connect("notify::ice-connection-state", self._on_ice)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self._on_error)

    def _on_error(self, bus, msg):
        err, dbg = msg.parse_error()
        self.errors.append(err.message)
        self.log("whip client: pipeline error: %s (%s)" % (err.message, dbg))

    def _on_gathering(self, wb, pspec):
        if wb.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            self._gathered.set()

    def _on_ice(self, wb, pspec):
        self.ice_state = wb.get_property("ice-connection-state").value_nick
        self.log("whip client: ice %s" % self.ice_state)

    def _on_pad_added(self, wb, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        caps = pad.get_current_caps() or pad.query_caps(None)
        s = caps.get_structure(0)
        media = s.get_string("media")
        enc = (s.get_string("encoding-name") or "").upper()
        if media == "video" and enc == "VP8":
            chain = "rtpvp8depay ! vp8dec name=dec ! fakesink sync=false async=false"
        else:
            chain = "fakesink sync=false async=false"
            if media == "audio":
                pad.add_probe(Gst.PadProbeType.BUFFER, self._count_audio)
        bin_ = Gst.parse_bin_from_description(chain, True)
        self.pipe.add(bin_)
        bin_.sync_state_with_parent()
        dec = bin_.get_by_name("dec")
        if dec is not None:
            dec.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self._count_frame)
        pad.link(bin_.get_static_pad("sink"))

    def _count_frame(self, pad, info):
        self.video_frames += 1
        return Gst.PadProbeReturn.OK

    def _count_audio(self, pad, info):
        self.audio_packets += 1
        return Gst.PadProbeReturn.OK

    def _emit(self, signal, *args, timeout=15):
        """Emits a promise-taking webrtcbin action from the GLib loop and
        waits for its reply."""
        done = threading.Event()
        box = {}

        def on_reply(promise):
            box["reply"] = promise.get_reply()
            done.set()

        def emit():
            self.wb.emit(signal, *(args + (Gst.Promise.new_with_change_func(on_reply),)))
            return False
        GLib.idle_add(emit)
        if not done.wait(timeout):
            raise RuntimeError("webrtcbin %s timed out" % signal)
        return box.get("reply")

    def _make_offer(self):
        reply = self._emit("create-offer", None)
        offer = reply.get_value("offer") if reply else None
        if offer is None:
            raise RuntimeError("create-offer gave no offer")
        self._emit("set-local-description", offer)
        # Non-trickle: the offer carries every candidate (what OBS does).
        self._gathered.wait(10)
        return self.wb.get_property("local-description").sdp.as_text()

    def _set_answer(self, text):
        res, msg = GstSdp.SDPMessage.new_from_text(text)
        if res != GstSdp.SDPResult.OK:
            raise RuntimeError("the answer does not parse")
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        self._emit("set-remote-description", desc)

    def _headers(self, content_type=None):
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if content_type:
            h["Content-Type"] = content_type
        return h

    # -- WHIP / WHEP
    def _start(self, direction):
        for i in range(2):
            t = self.wb.emit("get-transceiver", i)
            if t is not None:
                t.set_property("direction", direction)
        self.pipe.set_state(Gst.State.PLAYING)
        self.offer = self._make_offer()
        r = request(self.endpoint, "POST", self.offer, self._headers("application/sdp"))
        self.log("whip client: POST %s -> %d" % (self.endpoint, r.status))
        if r.status == 201:
            self.location = urllib.parse.urljoin(self.endpoint, r.header("location"))
            self.etag = r.header("etag")
            self.answer = r.body
            self._set_answer(r.body)
        return r

    def publish(self):
        """POSTs a sendonly VP8 + Opus offer; returns the HttpReply."""
        self._setup(PUBLISH.format(v=VIDEO_SSRC, a=AUDIO_SSRC))
        return self._start(GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)

    def view(self):
        """POSTs a recvonly audio + video offer (WHEP); returns the HttpReply."""
        self._setup()
        for kind in ("video", "audio"):
            caps = Gst.Caps.from_string(
                "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000"
                if kind == "video" else
                "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000")
            self.wb.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                         caps)
        return self._start(GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY)

    def patch(self, body, content_type="application/trickle-ice-sdpfrag", if_match=None):
        h = self._headers(content_type)
        if if_match is not None:
            h["If-Match"] = if_match
        return request(self.location, "PATCH", body, h)

    def delete(self, token=None):
        h = {"Authorization": "Bearer " + (token or self.token)}
        return request(self.location, "DELETE", None, h)

    def stop(self):
        if self.pipe is not None:
            self.pipe.set_state(Gst.State.NULL)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    client = WhipClient(argv[1], argv[2])
    r = client.publish()
    if r.status != 201:
        print("refused: %d %s" % (r.status, r.body))
        return 1
    print("publishing; Location %s" % client.location)
    time.sleep(float(argv[3]) if len(argv) > 3 else 30)
    print("DELETE -> %d" % client.delete().status)
    client.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
