#!/usr/bin/python3
"""A briefing at small scale: 1 presenter, 30 real receiving peers (issue 6).

P publishes VP8 320x240 at 15 fps + Opus from GStreamer webrtcbin; 30
GStreamer webrtcbin viewers, all in this process (one GLib thread, one
pipeline each with rtpvp8depay ! vp8dec ! fakesink), join the same room,
answer caud's subscribe-offer and decode.  The room is a briefing (join
with kind "briefing" in a plain room, anonymous rooms on; a consult room
would hold 12).

Asserts: the room is a briefing, P its host and every viewer a viewer;
within the deadline every viewer decoded >= MIN_FRAMES VP8 frames
and received Opus; 3 s later every viewer decoded more frames than
before; caud's forwarding counters show no drop of the publisher's
packets.  Logs caud's CPU (utime + stime over the measured seconds) and RSS
from /proc, and the load average, so that the log says what 31 peers
cost caud on this machine."""

import asyncio
import os
import time

from cauharness import Signaling, TestFailure, check, log, run_test, sum_metrics
from peers_aiortc import wait_until
from peers_gst import attach_subscriber, drive_publisher

ROOM = "it-briefing-receivers"
VIEWERS = int(os.environ.get("BRIEFING_VIEWERS", "30"))
MIN_FRAMES = 30          # 2 s of video at 15 fps
JOIN_BATCH = 6           # viewers connecting at once (2 cores, one Python process)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def proc_cpu_rss(pid):
    """(utime + stime in s, RSS in bytes) of @pid from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK, int(fields[21]) * PAGE


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


async def join_briefing(sig, name):
    r = await sig.request({"type": "join", "room": ROOM, "name": name, "kind": "briefing"})
    if r.get("type") != "joined":
        raise TestFailure("%s: join refused: %s" % (name, r))
    sig.participant = r.get("participant")
    check(r.get("kind") == "briefing", "%s: joined says kind briefing" % name)
    return r


async def main(caud):
    viewers = []     # (signaling, peer, info)
    pub_sig = await Signaling(caud.ws_url, "P").connect()
    pub = None
    try:
        joined = await join_briefing(pub_sig, "Presenter")
        check(joined.get("role") == "host",
              "the first joiner of the briefing is its host (role %r)" % joined.get("role"))
        pub, answer = await drive_publisher(pub_sig, "P", fps=15)
        check(await wait_until(lambda: pub.conn_state == "connected", 15),
              "P's publish connection reaches connected (%s)" % pub.conn_state)

        t_join = time.monotonic()

        async def add_viewer(i):
            name = "V%02d" % i
            sig = await Signaling(caud.ws_url, name).connect()
            peer, info = await attach_subscriber(sig, name)
            viewers.append((sig, peer, info))
            r = await join_briefing(sig, "Viewer %d" % i)
            check(r.get("role") == "viewer", "%s joins as a viewer (role %r)"
                  % (name, r.get("role")))

        for base in range(0, VIEWERS, JOIN_BATCH):
            await asyncio.gather(*(add_viewer(i) for i in range(base, min(VIEWERS, base + JOIN_BATCH))))
            # let this batch's ICE/DTLS settle before the next one queues up
            await wait_until(lambda: all(p.conn_state == "connected" for _, p, _ in viewers), 10)
        log("%d viewers joined in %.1f s (load %s)" % (len(viewers), time.monotonic() - t_join, loadavg()))

        def decoding():
            return [p for _, p, _ in viewers
                    if p.video_frames >= MIN_FRAMES and p.audio_packets > 0]

        ok = await wait_until(lambda: len(decoding()) == VIEWERS, 60, step=0.5)
        for sig, p, info in viewers:
            if p not in decoding():
                log("%s: connection %s, %d frames decoded, %d video RTP, %d audio RTP, "
                    "offers %d, replies %s" % (p.name, p.conn_state, p.video_frames,
                                              p.video_rtp_packets, p.audio_packets,
                                              len(info["offers"]),
                                              [r.get("type") for r in info["replies"]]))
        log("all decoding %.1f s after the first viewer joined" % (time.monotonic() - t_join))
        check(ok, "all %d viewers decoded >= %d VP8 frames and received Opus (%d did)"
              % (VIEWERS, MIN_FRAMES, len(decoding())))
        for _, p, info in viewers:
            check(all(r.get("type") == "ok" for r in info["replies"]),
                  "%s: caud accepted every subscribe-answer" % p.name)
            if p.errors:
                raise TestFailure("%s: pipeline errors %s" % (p.name, p.errors[:2]))

        # Steady state: the measured seconds.
        before = [p.video_frames for _, p, _ in viewers]
        m0 = caud.metrics()
        cpu0, _ = proc_cpu_rss(caud.proc.pid)
        t0 = time.monotonic()
        await asyncio.sleep(3)
        cpu1, rss = proc_cpu_rss(caud.proc.pid)
        t1 = time.monotonic()
        m1 = caud.metrics()
        after = [p.video_frames for _, p, _ in viewers]
        for (_, p, _), a, b in zip(viewers, before, after):
            check(b > a, "%s: frames keep increasing (%d -> %d)" % (p.name, a, b))
        rates = sorted((b - a) / (t1 - t0) for a, b in zip(before, after))
        log("decoded fps per viewer over %.1f s: min %.1f, median %.1f, max %.1f"
            % (t1 - t0, rates[0], rates[len(rates) // 2], rates[-1]))
        rtp = {k: m1[k] - m0.get(k, 0) for k in m1 if k.startswith("cau_media_rtp_packets_total")}
        log("caud RTP packets in the window: %s" % sorted(rtp.items()))
        dropped = (sum_metrics(m1, r"^cau_media_dropped_packets_total")
                   - sum_metrics(m0, r"^cau_media_dropped_packets_total"))
        log("caud 1 -> %d: CPU %.1f %% of one core over %.1f s, RSS %.1f MiB, "
            "load average %s; dropped packets in the window %d"
            % (VIEWERS, 100.0 * (cpu1 - cpu0) / (t1 - t0), t1 - t0, rss / 2 ** 20,
               loadavg(), dropped))
        check(dropped == 0, "caud dropped no packet in the measured seconds")
    finally:
        for sig, p, _ in viewers:
            await sig.close()
        await pub_sig.close()
        for _, p, _ in viewers:
            p.stop()
        if pub:
            pub.stop()
    check(caud.alive(), "caud is still running")


if __name__ == "__main__":
    run_test(main, deadline=170)
