#!/usr/bin/python3
"""record-cost.py — what recording costs the media plane, per recorded stream.

    bench/record-cost.py [--publishers 1,2,4] [--window 10] [--build build]
                         [--video 640x480 --bitrate 1200]

For each N, N webrtcbin publishers (VP8 320x240 30 fps + Opus, the
integration tests' peers) publish into one room of the media engine run
alone (tests/integration/record-harness, one worker), on 127.0.0.1.  Two
windows are measured back to back with the same publishers: without
recording, then recording every participant.  For each window: the
engine's CPU time (user + system, /proc/PID/stat) as % of one core, the
RTP packets the relay received and the packets it dropped (unknown,
malformed, SRTP), and, for the recording window, the packets the
recorders' bounded queues dropped.  The cost per recorded stream is the
CPU difference divided by N.  Prints one JSON line per N and a table.

Needs the build (record-harness, vault-cat) and Debian's python3-gst-1.0.
"""

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


async def window(h, seconds):
    pid = h.proc.pid
    s0 = await h.stats()
    c0, t0 = cpu_ticks(pid), time.monotonic()
    await asyncio.sleep(seconds)
    c1, t1 = cpu_ticks(pid), time.monotonic()
    s1 = await h.stats()
    drops = sum(s1[k] - s0[k] for k in ("dropped_unknown", "dropped_malformed", "dropped_srtp"))
    return {
        "cpu_percent": round(100.0 * (c1 - c0) / CLK_TCK / (t1 - t0), 1),
        "rtp_in": s1["rtp_packets_in"] - s0["rtp_packets_in"],
        "relay_dropped": drops,
    }


async def run(n, seconds):
    import record_common as rc

    work = tempfile.mkdtemp(prefix="cau-rec-bench-")
    keys = os.path.join(work, "keys")
    os.makedirs(keys, mode=0o700)
    h = rc.RecordHarness()
    peers = []
    try:
        await h.ready()
        for i in range(n):
            peers.append(await rc.publish(h, "P%d" % i))
        await asyncio.sleep(3.0)
        base = await window(h, seconds)
        await h.start_recording("bench", work, keys)
        await asyncio.sleep(2.0)
        rec = await window(h, seconds)
        done = await h.stop_recording(timeout=60)
        files = done["files"]
        size = sum(f["size"] for f in files)
        return {
            "publishers": n,
            "streams": 2 * n,
            "window_s": seconds,
            "baseline": base,
            "recording": rec,
            "recorder_dropped": sum(f["dropped"] for f in files),
            "files": len(files),
            "bytes_written": size,
            "cpu_per_recorded_participant": round((rec["cpu_percent"] - base["cpu_percent"]) / n, 1),
            "loadavg_1m": os.getloadavg()[0],
            "rtp_per_participant_s": round(base["rtp_in"] / n / seconds, 1),
        }
    finally:
        for p in peers:
            p.stop()
        h.close()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--publishers", default="1,2,4")
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--video", default="320x240", help="publisher picture size WxH")
    ap.add_argument("--bitrate", type=int, default=400, help="VP8 target, kbit/s")
    args = ap.parse_args()
    import peers_gst
    w, h = args.video.split("x")
    peers_gst.PUBLISH_PIPELINE = peers_gst.PUBLISH_PIPELINE.replace(
        "width=320,height=240", "width=%s,height=%s" % (w, h))
    peers_gst.VIDEO_ENCODERS["VP8"] = peers_gst.VIDEO_ENCODERS["VP8"].replace(
        "target-bitrate=400000", "target-bitrate=%d" % (args.bitrate * 1000))
    os.environ.setdefault("RECORD_HARNESS",
                          os.path.join(args.build, "tests", "integration", "record-harness"))
    os.environ.setdefault("VAULT_CAT", os.path.join(args.build, "tests", "integration", "vault-cat"))
    if not os.path.exists(os.environ["RECORD_HARNESS"]):
        sys.stderr.write("record-cost.py: build record-harness first (%s)\n"
                         % os.environ["RECORD_HARNESS"])
        return 77
    results = []
    for n in [int(x) for x in args.publishers.split(",")]:
        r = asyncio.run(run(n, args.window))
        print(json.dumps(r), flush=True)
        results.append(r)
    print("\n| participants | RTP/s each | engine CPU, forwarding only | engine CPU, recording | per recorded "
          "participant (audio+video) | RTP in (fwd / rec window) | relay drops | recorder drops "
          "| load 1m |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print("| %d | %.0f | %.1f %% | %.1f %% | %.1f %% | %d / %d | %d | %d | %.1f |" % (
            r["publishers"], r["rtp_per_participant_s"], r["baseline"]["cpu_percent"], r["recording"]["cpu_percent"],
            r["cpu_per_recorded_participant"], r["baseline"]["rtp_in"], r["recording"]["rtp_in"],
            r["baseline"]["relay_dropped"] + r["recording"]["relay_dropped"],
            r["recorder_dropped"], r["loadavg_1m"]))
    return 0


if __name__ == "__main__":
    os._exit(main())
