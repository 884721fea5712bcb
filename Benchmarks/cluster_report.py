#!/usr/bin/env python3
"""Markdown tables from a Benchmarks/cluster.sh results file (the newest one by default)."""
import glob, json, statistics, sys

path = sys.argv[1] if len(sys.argv) > 1 else sorted(glob.glob("Benchmarks/results/cluster-*.jsonl"))[-1]
rows = [json.loads(line) for line in open(path)]

def cell(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1 or min(values) == max(values):
        return fmt % med
    return (fmt % med) + " (" + (fmt % min(values)) + "–" + (fmt % max(values)) + ")"

print(f"Results `{path}`; each cell: median of {max(r['run'] for r in rows)} runs (min–max).\n")
print("| load | setup | deliveries/s | missing | dup/reordered | orders differing | p50 µs | p99 µs | gateway CPU-µs/delivery (each) | Redis CPU-µs/msg |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for scenario in sorted({r["scenario"] for r in rows}, key=lambda s: (s.startswith("publish"), int("".join(c for c in s if c.isdigit())))):
    for setup in ("cluster", "single"):
        runs = [r["result"] for r in rows if r["scenario"] == scenario and r["setup"] == setup]
        if not runs:
            continue
        get = lambda k: [r.get(k) for r in runs]
        if setup == "cluster":
            per = cell(get("gateway_1_cpu_us_per_delivery"), "%.2f") + " / " + cell(get("gateway_2_cpu_us_per_delivery"), "%.2f")
            redis = cell(get("redis_cpu_us_per_message"), "%.1f")
            orders = cell(get("order_differs"), "%.0f")
        else:
            per = cell(get("server_cpu_us_per_delivery"), "%.2f")
            redis = "—"
            orders = "—"
        receivers = int(runs[0]["receivers"])
        label = f"{receivers} receivers, {int(runs[0]['senders'])} senders, {int(runs[0]['rate'])} msg/s offered"
        name = "2 gateways + Redis" if setup == "cluster" else "1 gateway, no cluster"
        print(f"| {label} | {name} | {cell(get('deliveries_per_s'), '%.0f')} | {cell(get('missing'), '%.0f')} | "
              f"{cell(get('duplicate_or_reordered'), '%.0f')} | {orders} | {cell(get('latency_p50_us'), '%.0f')} | "
              f"{cell(get('latency_p99_us'), '%.0f')} | {per} | {redis} |")
