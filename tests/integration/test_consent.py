#!/usr/bin/python3
"""RFC 7675 consent freshness on caud's own receive path (media/poller.c).

Once a peer connection is up, caud reads its socket itself and answers and
makes the consent checks (STUN binding requests) that libnice made before.
Two aiortc peers: A publishes, B subscribes.  aioice checks consent every
5 s (± 20 %) and closes after 6 unanswered checks; caud does the same from
its side and fails the peer after 30 s without an answer.

Asserts:
- after 40 s (8 rounds of checks each way) both peers are still connected,
  B still decodes new frames, and caud counted no expired consent;
- when B goes silent without closing anything (its UDP sockets drop every
  datagram both ways, like a phone that lost its network), caud reports B's
  subscribe connection as failed 20-45 s later over B's signaling socket,
  counts one expired consent in /metrics, and A stays connected."""

import asyncio
import time

from cauharness import check, log, run_test
import peers_aiortc
from peers_aiortc import wait_until

ROOM = "it-consent"
HOLD_S = 40


def expired(caud):
    return caud.metrics().get("cau_media_consent_expired_total", -1)


def silence(pc):
    """Every UDP socket of @pc's ICE transports drops what it receives and
    sends nothing more; nothing is closed, so no DTLS alert or ICE message
    tells caud."""
    n = 0
    for t in pc.getTransceivers():
        for side in (t.sender, t.receiver):
            if side.transport is None:
                continue
            conn = side.transport.transport._connection
            for proto in conn._protocols:
                if getattr(proto, "_silenced", False) or proto.transport is None:
                    continue
                proto.datagram_received = lambda data, addr: None
                proto.transport.sendto = lambda *args, **kwargs: None
                proto._silenced = True
                n += 1
    return n


async def main(caud):
    call = peers_aiortc.Call(caud.ws_url, ROOM)
    try:
        await call.start()
        sb, pa, pb, counter = call.sb, call.pa, call.pb, call.counter
        check(await wait_until(lambda: counter.video_frames >= 30, 20),
              "B decodes >= 30 frames (%d)" % counter.video_frames)
        check(expired(caud) == 0, "no consent expired yet")

        log("holding the call for %d s (consent checks every ~5 s both ways)" % HOLD_S)
        await asyncio.sleep(HOLD_S - 3)
        frames = counter.video_frames
        await asyncio.sleep(3)
        check(pa.connectionState == "connected" and pb.connectionState == "connected",
              "after %d s both aiortc peers are connected (A %s, B %s): caud answered"
              " their consent checks" % (HOLD_S, pa.connectionState, pb.connectionState))
        check(counter.video_frames > frames,
              "B still decodes new frames (%d -> %d)" % (frames, counter.video_frames))
        check(expired(caud) == 0,
              "caud's own consent checks were answered: no expiry after %d s" % HOLD_S)

        n = silence(pb)
        check(n >= 1, "B's %d ICE socket(s) silenced" % n)
        t0 = time.monotonic()
        msg = await sb.wait_for(lambda m: isinstance(m, dict) and m.get("type") == "connection-state"
                                and m.get("pc") == "subscribe" and m.get("state") == "failed",
                                timeout=50, what="connection-state subscribe failed")
        elapsed = time.monotonic() - t0
        log("caud failed B's subscribe connection %.1f s after B went silent: %s" % (elapsed, msg))
        check(20 <= elapsed <= 45,
              "the failure came after the 30 s consent timeout (%.1f s, window 20-45)" % elapsed)
        check(expired(caud) == 1, "/metrics counts one expired consent (%r)" % expired(caud))
        await asyncio.sleep(1)
        check(pa.connectionState == "connected",
              "A's publish connection is unaffected (%s)" % pa.connectionState)
    finally:
        await call.close()
    check(caud.alive(), "caud is still running")


if __name__ == "__main__":
    run_test(main, deadline=200)
