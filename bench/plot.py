#!/usr/bin/python3
"""plot.py — a PNG of benchmark results from run.py's --json-out lines.

    bench/plot.py OUT.png LABEL=FILE.jsonl [LABEL=FILE.jsonl ...]

Three panels against N (subscribers, rooms or listeners, from the lines'
scenario): server CPU % of its one core, latency
p99 (p50 dashed; dotted: relay p99, to the subscriber socket's kernel receive
time, where the lines have it), generator CPU %.  One line per LABEL (e.g. caud and
janus, or two caud builds).  Needs python3-matplotlib.
"""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    rows = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
    return sorted((r for r in rows if not r.get("error")), key=lambda r: r["n"])


X_LABELS = {
    "fanout": "subscribers N (1 publisher, 1.5 Mbit/s VP8 + 40 kbit/s Opus)",
    "consult": "rooms K (4 people, each receiving the other 3)",
    "audio": "listeners N (4 speakers)",
    "briefing": "viewers N (1 presenter, simulcast)",
}


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out = sys.argv[1]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    scenario = "fanout"
    for spec in sys.argv[2:]:
        label, path = spec.split("=", 1)
        rows = load(path)
        scenario = rows[0].get("scenario", scenario) if rows else scenario
        n = [r["n"] for r in rows]
        line, = axes[0].plot(n, [r.get("server_cpu_pct") or 0 for r in rows], "o-",
                             label=label)
        c = line.get_color()
        axes[1].plot(n, [r["lat_p99_ms"] for r in rows], "o-", color=c, label=label + " p99")
        axes[1].plot(n, [r["lat_p50_ms"] for r in rows], "x--", color=c, label=label + " p50")
        if all(r.get("relay_p99_ms", -1) >= 0 for r in rows):
            axes[1].plot(n, [r["relay_p99_ms"] for r in rows], "s:", color=c,
                         label=label + " relay p99")
        axes[2].plot(n, [r["gen_cpu_pct"] for r in rows], "o-", color=c, label=label)
        for r in rows:
            if not r.get("pass"):
                axes[1].annotate("fail", (r["n"], r["lat_p99_ms"]), color=c)
    axes[0].set_title("server CPU (one core), %")
    axes[1].set_title("latency publisher → subscriber, ms")
    axes[1].axhline(50, color="grey", linewidth=0.8, linestyle=":")
    axes[2].set_title("load generator CPU (one core), %")
    for ax in axes:
        ax.set_xlabel(X_LABELS.get(scenario, X_LABELS["fanout"]))
        ax.set_xscale("log", base=2)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
