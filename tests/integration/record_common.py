"""Shared parts of the recording tests.

- RecordHarness: the media engine alone (record-harness, a C program that
  links media/), driven over JSON lines; real webrtcbin peers publish into
  its room through HarnessSignaling, which looks like cauharness.Signaling
  to peers_gst.drive_publisher.
- vault_decrypt(): the vault file → plaintext Matroska (vault-cat).
- analyze(): decodes a Matroska file with GStreamer and returns per-stream
  timestamps, frame brightness and audio loudness.
- publish_flash_beep_aiortc(): a publisher whose video turns white and
  whose audio beeps at the same instants, for the A/V sync test;
  sync_offsets() measures them in a decoded recording."""

import asyncio
import json
import os
import subprocess
import tempfile
import threading
import time

import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

import numpy  # noqa: E402

from cauharness import TestFailure, check, log  # noqa: E402
import peers_gst  # noqa: E402

Gst.init(None)

BUILD_HINT = "set RECORD_HARNESS and VAULT_CAT (meson does)"


def harness_path():
    return os.environ.get("RECORD_HARNESS")


class RecordHarness:
    def __init__(self):
        exe = harness_path()
        if not exe or not os.path.exists(exe):
            raise TestFailure("record-harness not found: " + BUILD_HINT)
        self.proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1,
                                     env=dict(os.environ, G_MESSAGES_DEBUG="cau-media"))
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue()
        self.messages = []
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                # GLib writes info and debug messages to stdout.
                self.stderr.append(line.rstrip())
                continue
            self.loop.call_soon_threadsafe(self.queue.put_nowait, msg)

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    def send(self, msg):
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    async def wait(self, pred, timeout=20, what="message"):
        for m in self.messages:
            if pred(m):
                self.messages.remove(m)
                return m
        deadline = self.loop.time() + timeout
        while True:
            left = deadline - self.loop.time()
            if left <= 0:
                raise TestFailure("record-harness: no %s within %ss (stderr: %s)"
                                  % (what, timeout, self.stderr[-20:]))
            try:
                m = await asyncio.wait_for(self.queue.get(), left)
            except asyncio.TimeoutError:
                continue
            if pred(m):
                return m
            self.messages.append(m)

    async def ready(self):
        await self.wait(lambda m: m.get("op") == "ready", what="ready")

    async def start_recording(self, recording, directory, key_dir, min_free=0):
        self.send({"op": "start", "recording": recording, "directory": directory,
                   "key_dir": key_dir, "min_free": min_free})

    async def stop_recording(self, timeout=30):
        self.send({"op": "stop"})
        return await self.wait(lambda m: m.get("op") == "done", timeout, "done")

    async def stats(self):
        self.send({"op": "stats"})
        return await self.wait(lambda m: m.get("op") == "stats", what="stats")

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        for line in self.stderr:
            if "recording" in line or "CRITICAL" in line or "WARNING" in line:
                log("harness: " + line)


class HarnessSignaling:
    """What peers_gst.drive_publisher needs from a signaling client."""

    def __init__(self, harness, participant):
        self.harness = harness
        self.participant = participant
        self.handlers = {}
        self.received = []

    async def send(self, msg):
        if msg.get("type") == "trickle":
            c = msg.get("candidate")
            self.harness.send({"op": "candidate", "participant": self.participant,
                               "candidate": c.get("candidate") if c else None})

    async def request(self, msg, timeout=10):
        if msg.get("type") != "publish":
            raise TestFailure("harness signaling: cannot %s" % msg.get("type"))
        self.harness.send({"op": "publish", "participant": self.participant, "sdp": msg["sdp"]})
        reply = await self.harness.wait(
            lambda m: (m.get("op") == "publish-answer" and m.get("participant") == self.participant)
            or m.get("op") == "error", timeout, "publish-answer")
        if reply.get("op") == "error":
            return {"type": "error", "message": reply.get("message")}
        return {"type": "publish-answer", "sdp": reply["sdp"]}


def fast_rtcp(peer):
    """Makes webrtcbin's sender reports like a browser's: rtpbin sends RTCP
    every 5 s (the first after up to ~4 s) where browsers send about one a
    second, and by default maps RTP time to the *send* time in its SRs, so
    the video encoder's latency (20–330 ms here, with the load) lands in
    the video track's mapping and not in the audio's; browsers map to the
    capture time, which is what lip sync needs (RFC 3550 §6.4.1)."""
    rtpbin = peer.wb.get_by_name("rtpbin")
    if rtpbin is None:
        return False
    rtpbin.set_property("rtcp-sync-send-time", False)
    session = rtpbin.emit("get-session", 0)
    if session is None:
        return False
    session.set_property("rtcp-min-interval", Gst.SECOND // 2)
    return True


async def publish(harness, participant, video_codec="VP8"):
    sig = HarnessSignaling(harness, participant)
    peer, _ = await peers_gst.drive_publisher(sig, participant, video_codec=video_codec)
    if not fast_rtcp(peer):
        log("%s: could not shorten the RTCP interval" % participant)
    for _ in range(100):
        if peer.conn_state == "connected":
            break
        await asyncio.sleep(0.1)
    else:
        raise TestFailure("%s: not connected (%s, errors %s)"
                          % (participant, peer.conn_state, peer.errors))
    return peer


async def record_publisher(recording, seconds, participant="A"):
    """A record-harness with @participant publishing webrtcbin test media,
    recording @recording for @seconds into a new directory.  Returns
    (harness, peer, work dir, key dir, started event, seconds recorded);
    the caller ends the harness (kill9 or close) and stops the peer."""
    work = tempfile.mkdtemp(prefix="cau-%s-" % recording)
    keys = os.path.join(work, "keys")
    os.makedirs(keys, mode=0o700)
    h = RecordHarness()
    peer = None
    try:
        await h.ready()
        peer = await publish(h, participant)
        await asyncio.sleep(1.0)
        await h.start_recording(recording, work, keys)
        started = await h.wait(lambda m: m.get("op") == "event", what="started event")
        check(started["event"] == "started", "recording started: %s" % started)
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        return h, peer, work, keys, started, time.monotonic() - t0
    except BaseException:
        if peer is not None:
            peer.stop()
        h.close()
        raise


def vault_decrypt(key_dir, path, out):
    exe = os.environ.get("VAULT_CAT")
    if not exe:
        raise TestFailure("vault-cat not found: " + BUILD_HINT)
    r = subprocess.run([exe, key_dir, path, out], capture_output=True, text=True)
    if r.returncode != 0:
        raise TestFailure("vault-cat %s: rc %d %s" % (path, r.returncode, r.stderr))
    return json.loads(r.stdout)


# ---------------------------------------------------------------------------
# decoding


def analyze(path, timeout=60):
    """Decodes @path; returns {"audio": {...}, "video": {...}} with first/last
    timestamps (s), counts, per-frame mean luma and per-10 ms audio RMS."""
    pipe = Gst.Pipeline.new("analyze")
    src = Gst.ElementFactory.make("filesrc")
    src.set_property("location", path)
    dec = Gst.ElementFactory.make("decodebin")
    pipe.add(src)
    pipe.add(dec)
    src.link(dec)
    out = {}
    lock = threading.Lock()

    def on_video(sink):
        s = sink.emit("pull-sample")
        b = s.get_buffer()
        ok, m = b.map(Gst.MapFlags.READ)
        luma = float(numpy.frombuffer(m.data, dtype=numpy.uint8).mean())
        b.unmap(m)
        with lock:
            out["video"]["frames"].append((b.pts / Gst.SECOND, luma))
        return Gst.FlowReturn.OK

    def on_audio(sink):
        s = sink.emit("pull-sample")
        b = s.get_buffer()
        ok, m = b.map(Gst.MapFlags.READ)
        pcm = numpy.frombuffer(m.data, dtype=numpy.int16).astype(numpy.float64)
        b.unmap(m)
        t0 = b.pts / Gst.SECOND
        with lock:
            a = out["audio"]
            a["samples"] += len(pcm)
            a["buffers"].append((t0, b.duration / Gst.SECOND if b.duration != Gst.CLOCK_TIME_NONE else len(pcm) / 48000))
            for i in range(0, len(pcm) - 479, 480):
                a["rms"].append((t0 + i / 48000.0, float(numpy.sqrt(numpy.mean(pcm[i:i + 480] ** 2)))))
        return Gst.FlowReturn.OK

    def pad_added(_dec, pad):
        caps = pad.get_current_caps().to_string()
        if caps.startswith("video/"):
            desc = ("queue ! videoconvert ! videoscale ! video/x-raw,format=GRAY8,width=32,height=24 "
                    "! appsink name=sink sync=false emit-signals=true")
            kind, cb = "video", on_video
            out["video"] = {"frames": []}
        elif caps.startswith("audio/"):
            desc = ("queue ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,channels=1,rate=48000 "
                    "! appsink name=sink sync=false emit-signals=true")
            kind, cb = "audio", on_audio
            out["audio"] = {"samples": 0, "buffers": [], "rms": []}
        else:
            return
        b = Gst.parse_bin_from_description(desc, True)
        b.get_by_name("sink").connect("new-sample", cb)
        pipe.add(b)
        b.sync_state_with_parent()
        pad.link(b.get_static_pad("sink"))
        log("analyze: %s stream %s" % (kind, caps[:80]))

    dec.connect("pad-added", pad_added)
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(timeout * Gst.SECOND,
                                            Gst.MessageType.EOS | Gst.MessageType.ERROR)
    err = None
    if msg is None:
        err = "no EOS"
    elif msg.type == Gst.MessageType.ERROR:
        err = msg.parse_error()[0].message
    pipe.set_state(Gst.State.NULL)
    if err:
        raise TestFailure("decoding %s: %s" % (path, err))
    result = {}
    if "video" in out and out["video"]["frames"]:
        f = sorted(out["video"]["frames"])
        result["video"] = {"first": f[0][0], "last": f[-1][0], "count": len(f), "frames": f}
    if "audio" in out and out["audio"]["buffers"]:
        bufs = sorted(out["audio"]["buffers"])
        result["audio"] = {"first": bufs[0][0], "last": bufs[-1][0] + bufs[-1][1],
                           "count": len(bufs), "rms": sorted(out["audio"]["rms"])}
    return result


def span(stream):
    return stream["last"] - stream["first"]


# ---------------------------------------------------------------------------
# A/V sync measurement

FLASH_PERIOD = 1.0
FLASH_LENGTH = 0.1


def onsets(samples, threshold):
    """Times where the value rises through @threshold."""
    out = []
    prev = None
    for t, v in samples:
        if prev is not None and prev < threshold <= v:
            out.append(t)
        prev = v
    return out


def sync_offsets(result):
    """(video flash onset, audio - video offset in s) for each flash with a
    beep within half a period."""
    flashes = onsets(result["video"]["frames"], 128)
    beeps = onsets(result["audio"]["rms"], 1000)
    pairs = []
    for f in flashes:
        near = [b for b in beeps if abs(b - f) < FLASH_PERIOD / 2]
        if near:
            b = min(near, key=lambda x: abs(x - f))
            pairs.append((f, b - f))
    return flashes, beeps, pairs


# ---------------------------------------------------------------------------
# the flash-and-beep publisher, aiortc flavour
#
# webrtcbin 1.22 as a sender is not a fair judge of lip sync: its sources'
# timestamps depend on how long each branch was blocked during negotiation
# and its offsets between audio and video changed from run to run (−500 to
# +40 ms in the same recording by the same relay).  aiortc stamps frames by
# the wall clock it paces them with and sends a sender report per track
# mapping its RTP clock to NTP as a browser does, so the flash and the beep
# share one capture clock.

import aioice.ice  # noqa: E402

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: ["127.0.0.1"]

import av  # noqa: E402
from aiortc import RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack  # noqa: E402

import peers_aiortc  # noqa: E402

def _flash_on(capture_wall):
    return ((capture_wall - _EPOCH[0]) % FLASH_PERIOD) < FLASH_LENGTH


_EPOCH = [0.0]


class FlashTrack(VideoStreamTrack):
    async def recv(self):
        pts, time_base = await self.next_timestamp()
        wall = self._start + float(pts * time_base)
        value = 255 if _flash_on(wall) else 0
        img = numpy.full((240, 320, 3), value, numpy.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


class BeepTrack(AudioStreamTrack):
    async def recv(self):
        frame = await super().recv()
        n = frame.samples
        rate = frame.sample_rate
        wall0 = self._start + float(frame.pts) / rate
        t = wall0 + numpy.arange(n) / rate
        on = ((t - _EPOCH[0]) % FLASH_PERIOD) < FLASH_LENGTH
        samples = (numpy.sin(2 * numpy.pi * 1000 * t) * 16000 * on).astype(numpy.int16)
        out = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        out.sample_rate = rate
        out.pts = frame.pts
        out.time_base = frame.time_base
        return out


async def publish_flash_beep_aiortc(harness, participant, sig=None):
    """An aiortc publisher of FlashTrack + BeepTrack, through the harness
    or over @sig (a cauharness.Signaling, joined).  Returns the
    RTCPeerConnection once connected."""
    _EPOCH[0] = time.time()
    pc = peers_aiortc.new_pc()
    pc.addTransceiver(FlashTrack(), direction="sendonly")
    pc.addTransceiver(BeepTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    sig = sig or HarnessSignaling(harness, participant)

    async def on_trickle(msg):
        if msg.get("pc") == "publish":
            await peers_aiortc.add_remote_candidate(pc, msg.get("candidate"))
    sig.handlers["trickle"] = on_trickle
    reply = await sig.request({"type": "publish", "sdp": pc.localDescription.sdp}, timeout=20)
    if reply.get("type") != "publish-answer":
        raise TestFailure("%s: publish refused: %s" % (participant, reply))
    await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
    await sig.send({"type": "trickle", "pc": "publish", "candidate": None})
    for _ in range(100):
        if pc.connectionState == "connected":
            return pc
        await asyncio.sleep(0.1)
    raise TestFailure("%s: aiortc publisher not connected (%s)" % (participant, pc.connectionState))
