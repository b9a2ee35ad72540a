#!/usr/bin/python3
"""A call over a lossy link: NACKs answered from caud's retransmission cache.

The test runs itself inside a network namespace that it creates (root and
nftables needed; skipped otherwise).  caud, an aiortc publisher and an
aiortc subscriber all run on its loopback.  Once both peer connections are
up, the loopback starts dropping 5 % of UDP datagrams at random (nftables
`numgen random`; the kernel here has no netem), so every media packet in
both directions may be lost.  (Loss during the handshakes is left out:
aiortc 1.4's own DTLS retransmission is not what this test is about.)

aiortc's video receiver NACKs the gaps it sees; caud must answer them from
the packets it keeps (RFC 4585 §6.2.1: its log of what it sent each
subscriber, rebuilt over the publisher's packets) and NACK the publisher
for uplink gaps.  Asserts: datagrams were really dropped (the nftables
counter), caud retransmitted packets (cau_media_nack_retransmits_total > 0),
the subscriber keeps decoding video (>= 90 frames within 40 s, and more
after), and every VP8 payload the subscriber got, the late (retransmitted)
ones included, is byte for byte one that the publisher sent (aiortc's
transports are hooked to see the packets in the clear)."""

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys

from cauharness import SKIP, Signaling, check, log, run_test
import peers_aiortc
from peers_aiortc import wait_until

ROOM = "it-lossy-link"
LOSS_PERCENT = 5


def vp8_data(payload):
    """The VP8 bitstream in an RTP payload: after the payload descriptor
    (RFC 7741 §4.2), which caud rewrites (PictureID) and the bytes after
    it never."""
    if len(payload) < 1:
        return b""
    i = 1
    if payload[0] & 0x80 and len(payload) > 1:   # X
        x = payload[1]
        i = 2
        if x & 0x80 and len(payload) > i:       # I: PictureID, 1 or 2 bytes
            i += 2 if payload[i] & 0x80 else 1
        if x & 0x40:                            # L: TL0PICIDX
            i += 1
        if x & 0x30:                            # T or K
            i += 1
    return bytes(payload[i:])


class PayloadCheck:
    """Hooks aiortc 1.4: every RTP packet an aiortc peer sends (before
    SRTP) and every video packet a receiver handles (after SRTP)."""

    def __init__(self):
        self.sent = set()
        self.received = self.late = self.unknown = 0
        self.highest = {}

    def install(self):
        from aiortc import rtcdtlstransport, rtcrtpreceiver
        from aiortc.rtp import RtpPacket, is_rtcp
        check_self = self
        send_rtp = rtcdtlstransport.RTCDtlsTransport._send_rtp
        handle_rtp = rtcrtpreceiver.RTCRtpReceiver._handle_rtp_packet

        async def hooked_send(transport, data):
            if not is_rtcp(data):
                check_self.sent.add(vp8_data(RtpPacket.parse(data).payload))
            return await send_rtp(transport, data)

        async def hooked_handle(receiver, packet, arrival_time_ms):
            if receiver.track is not None and receiver.track.kind == "video" and packet.payload:
                check_self.note_received(packet)
            return await handle_rtp(receiver, packet, arrival_time_ms)

        rtcdtlstransport.RTCDtlsTransport._send_rtp = hooked_send
        rtcrtpreceiver.RTCRtpReceiver._handle_rtp_packet = hooked_handle

    def note_received(self, packet):
        self.received += 1
        if vp8_data(packet.payload) not in self.sent:
            self.unknown += 1
        highest = self.highest.get(packet.ssrc)
        if highest is not None and ((packet.sequence_number - highest) & 0xFFFF) > 0x8000:
            self.late += 1          # older than one already received: a retransmission
        else:
            self.highest[packet.ssrc] = packet.sequence_number


def nft(netns, *args):
    return subprocess.run(["ip", "netns", "exec", netns, "nft"] + list(args),
                          check=True, capture_output=True, text=True).stdout


def dropped_datagrams(netns):
    text = nft(netns, "list", "chain", "inet", "cau_loss", "out")
    m = re.search(r"counter packets (\d+)", text)
    return int(m.group(1)) if m else 0


def outside():
    """Creates the namespace, runs this file inside it, removes it."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nft"):
        log("SKIP: needs root, ip and nft to build a lossy network namespace")
        sys.exit(SKIP)
    netns = "cau-loss-%d" % os.getpid()
    # meson's timeout ends a test with SIGTERM: leave through `finally`, so
    # that the namespace is removed then too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"], check=True)
        nft(netns, "add", "table", "inet", "cau_loss")
        nft(netns, "add", "chain", "inet", "cau_loss", "out",
            "{ type filter hook output priority 0; }")
        env = dict(os.environ, CAU_LOSSY_NETNS=netns)
        rc = subprocess.run(["ip", "netns", "exec", netns, sys.executable, __file__],
                            env=env).returncode
    finally:
        subprocess.run(["ip", "netns", "del", netns])
    sys.exit(rc)


async def main(caud):
    netns = os.environ["CAU_LOSSY_NETNS"]
    payloads = PayloadCheck()
    payloads.install()
    sa = await Signaling(caud.ws_url, "A").connect()
    sb = await Signaling(caud.ws_url, "B").connect()
    pa = pb = None
    try:
        await sa.join(ROOM, "A (aiortc, lossy)")
        pa, _ = await peers_aiortc.publish(sa)
        check(await wait_until(lambda: pa.connectionState == "connected", 20),
              "A's publish connection reaches connected over the lossy link")
        pb, counter, info = await peers_aiortc.subscribe(sb)
        await sb.join(ROOM, "B (aiortc, lossy)")
        check(await wait_until(lambda: pb.connectionState == "connected", 20),
              "B's subscribe connection reaches connected (%s)" % pb.connectionState)
        nft(netns, "add", "rule", "inet", "cau_loss", "out", "meta", "l4proto", "udp",
            "numgen", "random", "mod", "100", "<", str(LOSS_PERCENT), "counter", "drop")
        log("the link now drops %d %% of UDP datagrams" % LOSS_PERCENT)
        m0 = caud.metrics()
        frames0 = counter.video_frames
        ok = await wait_until(lambda: counter.video_frames >= frames0 + 90, 40)
        log("B: %d video frames, %d audio frames" % (counter.video_frames, counter.audio_frames))
        check(ok, "B decodes >= 90 more video frames within 40 s over a %d %% lossy link"
              % LOSS_PERCENT)
        frames = counter.video_frames
        await asyncio.sleep(3)
        check(counter.video_frames > frames,
              "frames keep coming (%d -> %d)" % (frames, counter.video_frames))

        m1 = caud.metrics()
        drops = dropped_datagrams(netns)
        rtx = m1.get("cau_media_nack_retransmits_total", 0)
        plis = m1.get("cau_media_plis_sent_total", 0)
        log("datagrams dropped by the link: %d; caud retransmitted %d (before B: %d); PLIs %d"
            % (drops, rtx, m0.get("cau_media_nack_retransmits_total", 0), plis))
        check(drops > 0, "the link really dropped datagrams")
        check(rtx > 0, "caud answered NACKs from its retransmission cache")
        log("B handled %d VP8 packets, %d of them late (retransmitted); %d not sent by A"
            % (payloads.received, payloads.late, payloads.unknown))
        check(payloads.received > 0 and payloads.late > 0,
              "B received retransmitted video packets")
        check(payloads.unknown == 0,
              "every VP8 payload B received, retransmissions included, is one A sent")
        check(caud.alive(), "caud is still running")
    finally:
        await sa.close()
        await sb.close()
        for pc in (pa, pb):
            if pc:
                await pc.close()


if __name__ == "__main__":
    if "CAU_LOSSY_NETNS" not in os.environ:
        outside()
    run_test(main, deadline=150)
