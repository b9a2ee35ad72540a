#!/usr/bin/python3
"""fanout-model.py — what the fan-out latency of one media worker is made of.

    bench/fanout-model.py --n 320 --us-per-send 3.9 [--no-pacing | --pacing-burst-ms 5]

A queueing model of the 1 -> N fan-out scenario as cau-bench drives it: the
publisher's traffic (1.5 Mbit/s VP8 at 30 fps, a 21-packet key frame every 3 s,
6-packet delta frames, an Opus packet every 20 ms), through the same pacer as
cau-bench (bench/traffic.c: libwebrtc's debt rule), released only at the
generator's main-loop iterations (--tick-ms; cau-bench waits up to 2 ms
between iterations at N >= 200), then one server that handles packets in
arrival order and sends each to subscriber 1, 2, ... N, one send every
--us-per-send µs (the measured server CPU time per forwarded packet).  RTCP
is in too: each subscriber's receiver report once a second at a random time
(--rr-us of server time each) and the publisher's two sender reports, each
translated and sent to every subscriber (N sends of --us-per-send).

It prints the relay latency quantiles (publisher send -> subscriber socket,
what cau-bench reports as relay_p50/p99) for the model and for the model
without each part, so that a measured p99 can be read as "this much is the
burst, this much the generator's tick, this much RTCP".  Nothing is measured
here: the per-send cost comes from a bench run (caud CPU % / out pps).
"""
import argparse
import math
import random

import numpy as np


def traffic(a):
    """(time µs, kind) of every packet the publisher hands to the network."""
    rate = a.pacing_factor * a.video_kbps * 1000 / 8 / 1e6   # bytes per µs
    burst = a.pacing_burst_ms * 1000
    bytes_per_interval = a.video_kbps * 1000 / 8 * 3
    frames = 90
    delta = bytes_per_interval / (frames + 3)
    key = 4 * delta
    per = 1196
    out = []
    queue = []          # sizes of queued video packets
    debt, last = 0.0, None
    tick = a.tick_ms * 1000
    t, frame, next_audio = 0.0, 0, 0.0
    next_frame = 0.0
    end = a.seconds * 1e6
    while t < end:
        while next_frame <= t:
            size = key if frame % frames == 0 and a.key_frames else delta
            n = math.ceil(size / per)
            queue += [size / n + 16] * n
            frame += 1
            next_frame += 1e6 / 30
        while next_audio <= t:
            out.append((t, "audio"))
            next_audio += 20000
        if last is not None and rate > 0:
            debt = max(0.0, debt - rate * (t - last))
        last = t
        while queue and (rate <= 0 or debt / rate < burst):
            debt += queue.pop(0)
            out.append((t, "video"))
        t += tick if tick > 0 else 50
    return out


def simulate(a, rtcp=True, tick=True, pacing=True, key_frames=True, seed=1):
    random.seed(seed)
    b = argparse.Namespace(**vars(a))
    b.key_frames = key_frames
    if not tick:
        b.tick_ms = 0
    if not pacing:
        b.pacing_factor = 0
    c = a.us_per_send
    jobs = [(t, kind) for t, kind in traffic(b)]
    if rtcp:
        for s in range(int(a.seconds)):
            for _ in range(a.n):
                jobs.append((s * 1e6 + random.uniform(0, 1e6), "rr"))
            jobs.append((s * 1e6 + random.uniform(0, 1e6), "sr"))
            jobs.append((s * 1e6 + random.uniform(0, 1e6), "sr"))
    jobs.sort()
    free = 0.0
    lat = []
    ks = np.arange(1, a.n + 1) * c
    for t, kind in jobs:
        arrive = t + a.wire_us
        start = max(free, arrive)
        if kind == "rr":
            free = start + a.rr_us
        elif kind == "sr":
            free = start + a.n * c
        else:
            free = start + a.n * c
            if t > 2e6:           # after a warm-up, as cau-bench's window
                lat.append(start - t + ks)
    lat = np.concatenate(lat) / 1000.0
    return [float(np.percentile(lat, q)) for q in (50, 90, 99, 99.9)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=320)
    p.add_argument("--us-per-send", type=float, required=True,
                   help="server CPU µs per forwarded packet (bench: 1e6 / pps_per_core)")
    p.add_argument("--rr-us", type=float, default=4.0,
                   help="server µs per receiver report handled")
    p.add_argument("--wire-us", type=float, default=30.0,
                   help="publisher stamp -> server socket, µs")
    p.add_argument("--video-kbps", type=float, default=1500)
    p.add_argument("--pacing-factor", type=float, default=2.5)
    p.add_argument("--pacing-burst-ms", type=float, default=40)
    p.add_argument("--no-pacing", action="store_true")
    p.add_argument("--tick-ms", type=float, default=2.0,
                   help="the generator's send granularity (0: exact)")
    p.add_argument("--seconds", type=float, default=30)
    a = p.parse_args()
    if a.no_pacing:
        a.pacing_factor = 0
    print("N=%d, %.2f µs per send (one packet to all: %.2f ms), pacing %s"
          % (a.n, a.us_per_send, a.n * a.us_per_send / 1000,
             "off" if a.pacing_factor <= 0 else "%.1fx, burst %g ms"
             % (a.pacing_factor, a.pacing_burst_ms)))
    print("%-38s %7s %7s %7s %7s" % ("relay latency, ms", "p50", "p90", "p99", "p99.9"))
    rows = [("model", {}),
            ("  without RTCP", {"rtcp": False}),
            ("  without the generator's tick", {"tick": False}),
            ("  without either", {"rtcp": False, "tick": False}),
            ("  key frames the size of delta frames", {"key_frames": False})]
    for label, kw in rows:
        q = simulate(a, **kw)
        print("%-38s %7.2f %7.2f %7.2f %7.2f" % (label, *q))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
