"""A real WebRTC subscriber for simulcast.test.mjs: aiortc (python3-aiortc 1.4)
joins a plain room over caud's WSS signaling, answers the subscribe offers and
decodes the video it gets (VP8 via PyAV/libvpx).  Its bandwidth feedback is
constrained by the test: each line "remb <bit/s>" on stdin makes it send that
REMB (draft-alvestrand-rmcat-remb) on its subscribe connection every 250 ms
from then on; aiortc's own estimator is switched off so that only these count.
"layer low|medium|high|auto" sends the signaling `layer` message for the first
video track announced to it.
Every 250 ms it prints one JSON line {"t", "frames", "width", "height"} with
the frames decoded so far and the size of the last one.

Usage: /usr/bin/python3 simulcast_subscriber.py WSS_URL ROOM
"""

import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import cauharness  # noqa: E402
from cauharness import Signaling  # noqa: E402
import peers_aiortc  # noqa: E402
from peers_aiortc import subscribe  # noqa: E402
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, pack_remb_fci  # noqa: E402

# Log lines go to stderr: stdout carries the JSON lines only.
cauharness.log = peers_aiortc.log = lambda msg: sys.stderr.write("[aiortc-sub] %s\n" % msg)

REMB_SSRC = 0x5EB0C0DE


def video_receivers(pc):
    return [t.receiver for t in pc.getTransceivers() if t.kind == "video"]


def video_track_of_others(sig):
    """(participant, track id) of the first video track announced to @sig."""
    for m in sig.received:
        if not isinstance(m, dict):
            continue
        if m.get("type") == "joined":
            for p in m.get("participants", []):
                for t in p.get("tracks", []):
                    if t.get("kind") == "video":
                        return p["id"], t["id"]
        if m.get("type") == "track-added" and m.get("track", {}).get("kind") == "video":
            return m["participant"], m["track"]["id"]
    return None, None


async def main(url, room):
    sig = Signaling(url, name="aiortc-sub")
    await sig.connect()
    pc, counter, _info = await subscribe(sig)
    await sig.join(room, "aiortc-sub")
    remb = {"bps": None}
    loop = asyncio.get_running_loop()

    async def read_commands():
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                return
            parts = line.decode().split()
            if len(parts) == 2 and parts[0] == "remb":
                remb["bps"] = int(parts[1])
                sys.stderr.write("[aiortc-sub] REMB now %d bit/s\n" % remb["bps"])
            elif len(parts) == 2 and parts[0] == "layer":
                # docs/protocol.md `layer`: the publisher's video track, as announced
                pub, track = video_track_of_others(sig)
                reply = await sig.request({"type": "layer", "participant": pub,
                                           "track": track, "layer": parts[1]})
                sys.stderr.write("[aiortc-sub] layer %s for %s/%s: %s\n"
                                 % (parts[1], pub, track, reply.get("type")))
            elif parts and parts[0] == "quit":
                return

    async def send_remb():
        while True:
            for r in video_receivers(pc):
                # Only the REMB the test sets: aiortc's estimator stays out.
                r._RTCRtpReceiver__remote_bitrate_estimator = None
                if remb["bps"] is None or r.transport is None:
                    continue
                pkt = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=REMB_SSRC, media_ssrc=0,
                                     fci=pack_remb_fci(remb["bps"], [0]))
                try:
                    await r._send_rtcp(pkt)
                except Exception as e:  # not connected yet
                    sys.stderr.write("[aiortc-sub] REMB not sent: %s\n" % e)
            await asyncio.sleep(0.25)

    async def report():
        while True:
            size = counter.last_frame_size or (0, 0)
            packets = lost = 0
            for r in video_receivers(pc)[:1]:
                try:
                    for st in (await r.getStats()).values():
                        if st.type == "inbound-rtp":
                            packets, lost = st.packetsReceived, st.packetsLost
                except Exception:
                    pass
            print(json.dumps({"t": time.monotonic(), "frames": counter.video_frames,
                              "width": size[0], "height": size[1],
                              "packets": packets, "lost": lost}), flush=True)
            await asyncio.sleep(0.25)

    tasks = [loop.create_task(send_remb()), loop.create_task(report())]
    await read_commands()
    for t in tasks:
        t.cancel()
    await pc.close()
    await sig.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
