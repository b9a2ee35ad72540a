#!/usr/bin/env python3
"""Writes the seed corpus for fuzz-rtp, fuzz-rtcp, fuzz-nack and some of fuzz-srtp's
(tests/fuzz/corpus/).

Packets are shaped after what Chrome and Firefox send (after SRTP/SRTCP
unprotect).  Run from anywhere: python3 tests/fuzz/make-corpus.py
Crash inputs found by libFuzzer are kept in the same directories under
their crash-<sha1> names; this script never deletes them."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def rtp(pt, seq, ts, ssrc, payload=b"", marker=False, ext=None, csrcs=(), pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext else 0) | len(csrcs)
    out = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    out += b"".join(struct.pack("!I", c) for c in csrcs)
    if ext:
        profile, data = ext
        data += b"\0" * (-len(data) % 4)
        out += struct.pack("!HH", profile, len(data) // 4) + data
    out += payload
    if pad:
        out += b"\0" * (pad - 1) + bytes([pad])
    return out


def rtcp(count, pt, body, pad=0):
    n = 4 + len(body) + pad
    assert n % 4 == 0
    b0 = 0x80 | (0x20 if pad else 0) | count
    tail = (b"\0" * (pad - 1) + bytes([pad])) if pad else b""
    return struct.pack("!BBH", b0, pt, n // 4 - 1) + body + tail


def report_block(ssrc, frac, lost, ext_seq, jitter, lsr, dlsr):
    return struct.pack("!IB", ssrc, frac) + (lost & 0xFFFFFF).to_bytes(3, "big") + \
        struct.pack("!IIII", ext_seq, jitter, lsr, dlsr)


RTP = {
    # Opus, one-byte extensions: audio level (1), abs-send-time (2), twcc (3)
    "opus-chrome": rtp(111, 6699, 57664, 0x3C5F8A12, bytes.fromhex("780b3e1f9a54c201"),
                       ext=(0xBEDE, bytes.fromhex("10ff2212345631 0005".replace(" ", "")))),
    # VP8 key frame start, mid extension, RTP padding
    "vp8-key": rtp(96, 1, 0x5A0C7F00, 0xDEADBEEF,
                   bytes.fromhex("908080015042009d012a8002e001"), ext=(0xBEDE, b"\x40\x30"), pad=3),
    # VP8 inter frame, full descriptor (I L T K)
    "vp8-delta": rtp(96, 2, 0x5A0C8BB8, 0xDEADBEEF, bytes.fromhex("90f00511205142004444"),
                     marker=True),
    # H.264 STAP-A SPS+PPS from a mixer with two CSRCs
    "h264-stapa": rtp(102, 65535, 0xFFFFFFF0, 1, bytes.fromhex("7800046742c01f000268ce"),
                      marker=True, csrcs=(10, 11)),
    # H.264 FU-A start of an IDR
    "h264-fua-idr": rtp(102, 100, 9000, 1, bytes.fromhex("7c85888400ff")),
    # two-byte extension form with a RID
    "two-byte-ext": rtp(96, 16, 4096, 0x11223344, b"\x01",
                        ext=(0x1000, b"\x00\x05\x00\x0a\x02hi")),
    # padding-only probe packet (Chrome bandwidth probing)
    "padding-probe": rtp(127, 500, 1234, 0x99, pad=224),
    # RTCP and STUN/DTLS datagrams also reach the classifier
    "stun-binding": bytes.fromhex("000100002112a442") + bytes(range(12)),
    "dtls-hello": bytes.fromhex("16fefd00000000000000000040010000"),
    # a stream for the record-driven part: small seq steps, some jumps
    "stream-records": bytes.fromhex("01100041 01100041 03100042 ff200043 81235588 0110004f"
                                    .replace(" ", "")),
}

SR = rtcp(1, 200, struct.pack("!IIIIII", 0x12345678, 0xE8F12A3B, 0x80000000, 90000, 300, 240000)
          + report_block(0x3C5F8A12, 10, 5, 0x11A2B, 32, 0xF12A3B80, 0x8000))
SDES = rtcp(1, 202, struct.pack("!IBB", 0x12345678, 1, 16) + b"4TOk42mSjXCkVIa6" + b"\0\0")
RR = rtcp(0, 201, struct.pack("!I", 0x87654321))
RR2 = rtcp(2, 201, struct.pack("!I", 0x87654321)
           + report_block(1, 0, -3, 70000, 9, 0, 0) + report_block(2, 255, 0x7FFFFF, 5, 0, 1, 2))
REMB = rtcp(15, 206, struct.pack("!II", 0x87654321, 0) + b"REMB" + bytes([1, 0x0E, 0xDC, 0x6C])
            + struct.pack("!I", 0x3C5F8A12))
NACK = rtcp(1, 205, struct.pack("!IIHHHH", 0x87654321, 0x3C5F8A12, 6699, 5, 65535, 0x8000))
PLI = rtcp(1, 206, struct.pack("!II", 0x87654321, 0xDEADBEEF))
FIR = rtcp(4, 206, struct.pack("!IIIB3x", 0x87654321, 0, 0xDEADBEEF, 7))
TWCC = rtcp(15, 205, struct.pack("!IIHHI", 0x87654321, 0x3C5F8A12, 16, 2, 0x00123401)
            + bytes.fromhex("20020404"))
BYE = rtcp(1, 203, struct.pack("!I", 0x3C5F8A12))
APP = rtcp(0, 204, struct.pack("!I", 0x87654321) + b"CAU0")
XR = rtcp(0, 207, struct.pack("!I", 0x87654321) + bytes.fromhex("04000002") + bytes(8))
PADDED_RR = rtcp(0, 201, struct.pack("!I", 0x87654321), pad=4)
PADDED_FIR = rtcp(4, 206, struct.pack("!IIIB3x", 1, 0, 2, 9), pad=8)

RTCP = {
    "sr-sdes": SR + SDES,
    "rr-remb": RR + REMB,
    "rr-two-blocks": RR2,
    "feedback": NACK + PLI + FIR + TWCC + BYE + APP,
    "xr": RR + XR,
    "padded-rr": PADDED_RR,
    "padded-fir": PADDED_FIR,
    "remb-saturated": rtcp(15, 206, struct.pack("!II", 1, 0) + b"REMB" + bytes([0, 0xFF, 0xFF, 0xFF])),
}


def nack_op(op, track=0, seq=0, arg=0, b6=0, dt=0):
    """One 8-byte operation of fuzz-nack.c's script."""
    return struct.pack("!BBHHBB", op, track, seq, arg, b6, dt)


def nack_forward(track, src_seq, out_seq, length=200, prefix=40, fill=7):
    """A track receives a packet and the subscriber is sent it."""
    return nack_op(0, track, src_seq, length, fill) + nack_op(1, track, out_seq, src_seq, prefix)


NACK = {
    # forward, NACK it back, then after the age limit
    "forward-nack": nack_forward(0, 1000, 42) + nack_op(2, 0, 42, 0, 1)
    + nack_op(5, 0, 0, 0, 255) + nack_op(2, 0, 42, 0, 1),
    # the source's slot is overwritten (16 later), then re-sent with another SSRC
    "stale-source": nack_forward(0, 1000, 42) + nack_forward(0, 1016, 43)
    + nack_op(2, 0, 42, 0, 1) + nack_op(0, 0, 1000, 200, 6) + nack_op(2, 0, 42, 0, 1),
    # five tracks for one log: the first one's entries go; a track is replaced
    "five-sources": b"".join(nack_forward(t, 100 + t, t) for t in range(5))
    + b"".join(nack_op(2, 0, t, 0, 1) for t in range(5))
    + nack_op(4, 2) + nack_op(2, 0, 2, 0, 1) + nack_op(3) + nack_op(2, 0, 3, 0, 1),
    # a publisher leaves: its cache is replaced, the clock passes the age limit
    # and the log lets the old cache go; the new one is used after
    "release-idle": nack_forward(1, 300, 7) + nack_op(4, 1) + nack_op(5, 0, 0, 0, 125)
    + nack_op(2, 0, 7, 0, 1) + nack_forward(1, 301, 8) + nack_op(2, 0, 8, 0, 1),
    # prefixes at and over the limit, a packet over the cache's size, a small out buffer
    "limits": nack_op(0, 1, 5, 300, 9) + nack_op(1, 1, 9, 5, 128) + nack_op(1, 1, 10, 5, 129)
    + nack_op(0, 1, 6, 330, 9) + nack_op(1, 1, 11, 6, 10) + nack_op(2, 1, 9, 100, 0)
    + nack_op(2, 1, 9, 0, 1),
}


def srtp_record(flags, packet):
    """One fuzz-srtp record: flags (bit 0 RTCP, bit 1 forged copy, bit 2 a
    flipped bit at a place from bits 3-7), 16-bit length, the packet."""
    return struct.pack("!BH", flags, len(packet)) + packet


# fuzz-srtp's receive side (the other srtp seeds were written by hand):
# forged packets, flipped bits, late and repeated sequence numbers, for
# each profile (the first byte's low two bits).
def srtp_receive_seed(profile):
    records = b""
    for i, seq in enumerate([65533, 65534, 65535, 0, 1, 65535, 2, 2, 3, 40000, 4]):
        packet = rtp(96, seq, 3000 * i, 0x1234ABCD, bytes(range(i, i + 60)),
                     ext=(0xBEDE, b"\x10\x01\x00\x00") if i % 3 == 0 else None)
        flags = 0
        if i % 4 == 1:
            flags |= 2                      # the plaintext also arrives, forged
        if i % 5 == 2:
            flags |= 4 | (i << 3)           # a bit flipped on the way
        records += srtp_record(flags, packet)
    records += srtp_record(2, b"\x80\x60\x00\x07" + b"\x00" * 9)     # forged, short
    records += srtp_record(2, b"\x80\x60\x00\x08" + b"\x00" * 8)     # forged, header only
    return bytes([profile]) + records


SRTP = {"receive-p%d" % p: srtp_receive_seed(p) for p in range(4)}


def write(kind, seeds):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name + ".bin"), "wb") as f:
            f.write(data)


write("rtp", RTP)
write("rtcp", RTCP)
write("nack", NACK)
write("srtp", SRTP)
