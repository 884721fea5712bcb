#!/usr/bin/python3
"""Turns a Benchmarks/results/*.jsonl (from Benchmarks/run.sh) into Markdown tables, median of the
runs with min–max, plus issue #8's targets as ratios, and puts them into README.md between
`<!-- bench:begin -->` and `<!-- bench:end -->` (added under `## Benchmarks` at the end if missing).

    python3 Benchmarks/report.py                      # the newest results file
    python3 Benchmarks/report.py results/X.jsonl      # that one
    python3 Benchmarks/report.py --print-only         # print, leave README.md alone
"""
import glob
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "README.md")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

SCENARIOS = {
    "echo": "Echo: 64 connections × 64 B, closed loop",
    "broadcast": "Broadcast: 1 room, 200 receivers, 1 sender, 2,000 msg/s × 64 B",
    "broadcast100": "Broadcast: 1 room, 200 receivers, 1 sender, 100 msg/s × 64 B",
    "idle": "Idle: 10,000 connections held (wsgate: half RFC 6455, half hixie-76; peers: RFC 6455)",
    "bridge": "Bridge: 4 connections × 64 KiB × 4 in flight, through to a TCP echo",
    "bulk": "wss:// vs ws:// bulk: wsgate `/echo`, 4 connections × 64 KiB × 4 in flight",
}

# Servers run.sh measures that are not peers: never compared against for a target, listed last.
# c-epoll-floor (Benchmarks/peers/c-epoll-ws-echo.c) is a minimal hand-written C epoll WebSocket echo
# server, one read() and one write() per message and nothing else: the floor for the echo target.
NOT_PEERS = {"c-epoll-floor": "C epoll floor (not a peer)"}


def is_peer(key):
    return key[1] != "wsgate" and key[1] not in NOT_PEERS


def load(path):
    records = []
    for line in open(path):
        line = line.strip()
        if line:
            r = json.loads(line)
            if "failed" not in r["result"]:
                records.append(r)
    return records


def derive(r):
    """The values a table shows, from one record."""
    x = dict(r["result"])
    x["client_cpu_pct"] = 100 * r["client_cpu_s"] / r["client_wall_s"] if r["client_wall_s"] else None
    if r["scenario"].startswith("bulk-"):
        x["mb_per_s"] = x["messages_per_s"] * x["size"] / 1e6
        x["server_cpu_us_per_MB"] = x.get("server_cpu_us_per_msg", 0) * 1e6 / x["size"] if x.get("server_cpu_us_per_msg") else None
    if r["scenario"] == "bridge" and r["server"] == "websockify":
        # websockify forks a process per connection: its CPU is the whole process tree's, over the
        # whole run (connects included), from run.sh's tree sampling.
        mb = x["mb_per_s"] * x["seconds"]
        x["server_cpu_us_per_MB"] = r["server_tree_cpu_s"] * 1e6 / mb if mb else None
        x["server_cpu_pct"] = 100 * r["server_tree_cpu_s"] / r["client_wall_s"]
    return x


def group(records):
    out = {}
    for r in records:
        # Idle RSS growth is only meaningful on a freshly started server: results written before
        # run.sh restarted the server for every idle run keep their first run only.
        if r["scenario"] == "idle" and not r.get("fresh_server_per_run") and r["run"] != 1:
            continue
        out.setdefault((r["scenario"], r["server"]), []).append(derive(r))
    return out


def stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def cell(values, fmt="{:.1f}"):
    s = stat(values)
    if s is None:
        return "—"
    med, lo, hi = s
    if fmt.format(lo) == fmt.format(hi):
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(lo)}–{fmt.format(hi)})"


def med(groups, key, field):
    runs = groups.get(key)
    if not runs:
        return None
    s = stat([r.get(field) for r in runs])
    return s[0] if s else None


COLUMNS = {
    "echo": [("msg/s", "messages_per_s", "{:.0f}"), ("p99 µs", "latency_p99_us", "{:.0f}"),
             ("server CPU-µs/msg", "server_cpu_us_per_msg", "{:.2f}"), ("server CPU %", "server_cpu_pct", "{:.0f}"),
             ("server RSS MiB", "server_rss_mib", "{:.0f}"), ("client CPU %", "client_cpu_pct", "{:.0f}")],
    "broadcast": [("deliveries/s", "deliveries_per_s", "{:.0f}"), ("missing", "missing", "{:.0f}"),
                  ("dup/reordered", "duplicate_or_reordered", "{:.0f}"), ("p50 µs", "latency_p50_us", "{:.0f}"),
                  ("p99 µs", "latency_p99_us", "{:.0f}"),
                  ("server CPU-µs/delivery", "server_cpu_us_per_delivery", "{:.2f}"),
                  ("server CPU %", "server_cpu_pct", "{:.0f}"), ("client CPU %", "client_cpu_pct", "{:.0f}")],
    "idle": [("connections", "connections", "{:.0f}"), ("handshakes/s", "handshakes_per_s", "{:.0f}"),
             ("server RSS KiB/conn", "server_rss_kib_per_conn", "{:.2f}"), ("server RSS MiB", "server_rss_mib", "{:.0f}"),
             ("client CPU %", "client_cpu_pct", "{:.0f}")],
    "bridge": [("MB/s each way", "mb_per_s", "{:.0f}"), ("server CPU-µs/MB", "server_cpu_us_per_MB", "{:.0f}"),
               ("server CPU %", "server_cpu_pct", "{:.0f}"), ("client CPU %", "client_cpu_pct", "{:.0f}")],
    "bulk": [("MB/s each way", "mb_per_s", "{:.0f}"), ("p99 µs", "latency_p99_us", "{:.0f}"),
             ("server CPU-µs/MB", "server_cpu_us_per_MB", "{:.0f}"), ("server CPU %", "server_cpu_pct", "{:.0f}"),
             ("client CPU %", "client_cpu_pct", "{:.0f}")],
}


def tables(groups):
    lines = []
    order = ["echo", "broadcast", "broadcast100", "idle", "bridge", "bulk"]
    for scenario in order:
        if scenario == "bulk":
            keys = [k for k in groups if k[0].startswith("bulk-")]
        else:
            keys = [k for k in groups if k[0] == scenario]
        if not keys:
            continue
        columns = COLUMNS["broadcast" if scenario == "broadcast100" else scenario]
        lines += [f"#### {SCENARIOS[scenario]}", ""]
        lines.append("| server | " + " | ".join(c[0] for c in columns) + " |")
        lines.append("| --- | " + " | ".join("---:" for _ in columns) + " |")
        for key in sorted(keys, key=lambda k: (k[1] != "wsgate", k[1] in NOT_PEERS, k[0], k[1])):
            name = NOT_PEERS.get(key[1], key[1]) if scenario != "bulk" else f"{key[1]} {key[0][5:]}://"
            runs = groups[key]
            lines.append(f"| {name} | " + " | ".join(cell([r.get(c[1]) for r in runs], c[2]) for c in columns) + " |")
        lines.append("")
    return lines


def verdict(ok):
    return "—" if ok is None else ("met" if ok else "**missed**")


def targets(groups):
    rows = []

    def ratio(a, b):
        return a / b if a is not None and b not in (None, 0) else None

    def fmt(v, spec="{:.2f}×"):
        return "—" if v is None else spec.format(v)

    # echo
    r = ratio(med(groups, ("echo", "wsgate"), "server_cpu_us_per_msg"), med(groups, ("echo", "node-ws"), "server_cpu_us_per_msg"))
    rows.append(("echo: server CPU per message ≤ 0.5× node ws", fmt(r), verdict(None if r is None else r <= 0.5)))
    r = ratio(med(groups, ("echo", "c-epoll-floor"), "server_cpu_us_per_msg"), med(groups, ("echo", "node-ws"), "server_cpu_us_per_msg"))
    if r is not None:
        rows.append(("echo floor (information): the C epoll floor's server CPU per message vs node ws "
                     "(the least any server can do here)", fmt(r), "—"))
    # broadcast 2000
    peers = [k for k in groups if k[0] == "broadcast" and is_peer(k)]
    if ("broadcast", "wsgate") in groups and peers:
        best = min(peers, key=lambda k: med(groups, k, "server_cpu_us_per_delivery") or float("inf"))
        r = ratio(med(groups, ("broadcast", "wsgate"), "server_cpu_us_per_delivery"), med(groups, best, "server_cpu_us_per_delivery"))
        rows.append((f"broadcast 2,000 msg/s: CPU per delivery ≤ 0.8× the best peer ({best[1]})", fmt(r),
                     verdict(None if r is None else r <= 0.8)))
        most = max(peers, key=lambda k: med(groups, k, "deliveries_per_s") or 0)
        r = ratio(med(groups, ("broadcast", "wsgate"), "deliveries_per_s"), med(groups, most, "deliveries_per_s"))
        rows.append((f"broadcast 2,000 msg/s: more deliveries/s than any peer (most: {most[1]})", fmt(r),
                     verdict(None if r is None else r > 1)))
        runs = groups[("broadcast", "wsgate")] + groups.get(("broadcast100", "wsgate"), [])
        bad = sum((x.get("missing", 0) or 0) + (x.get("duplicate_or_reordered", 0) or 0) + (x.get("gaps", 0) or 0) for x in runs)
        rows.append(("broadcast: nothing lost, duplicated or reordered (all wsgate runs)", f"{bad:.0f} bad",
                     verdict(bad == 0)))
    peers = [k for k in groups if k[0] == "broadcast100" and is_peer(k)]
    if ("broadcast100", "wsgate") in groups and peers:
        best = min(peers, key=lambda k: med(groups, k, "latency_p99_us") or float("inf"))
        w, p = med(groups, ("broadcast100", "wsgate"), "latency_p99_us"), med(groups, best, "latency_p99_us")
        rows.append((f"broadcast 100 msg/s: lower p99 than every peer (best: {best[1]})",
                     f"{w:.0f} µs vs {p:.0f} µs ({ratio(w, p):.2f}×)", verdict(w < p)))
    w = med(groups, ("idle", "wsgate"), "server_rss_kib_per_conn")
    if w is not None:
        rows.append(("idle: ≤ 4 KiB server RSS per connection (10,000, mixed rfc6455 + hixie-76)", f"{w:.2f} KiB",
                     verdict(w <= 4)))
    wcpu = med(groups, ("bridge", "wsgate"), "server_cpu_us_per_MB")
    wmb = med(groups, ("bridge", "wsgate"), "mb_per_s")
    for peer, goal, text in (("websockify", 3, "≥ 3× websockify"), ("raw-tcp", 0.6, "≥ 0.6× raw loopback TCP")):
        pcpu, pmb = med(groups, ("bridge", peer), "server_cpu_us_per_MB"), med(groups, ("bridge", peer), "mb_per_s")
        if wcpu is None or pcpu is None:
            continue
        eff = ratio(pcpu, wcpu)  # wsgate's efficiency (MB per CPU-second) relative to the peer's
        rows.append((f"bridge 64 KiB, CPU efficiency (MB per server CPU-s) {text}", fmt(eff), verdict(eff >= goal)))
        thr = ratio(wmb, pmb)
        rows.append((f"bridge 64 KiB, throughput (MB/s) {text}", fmt(thr), verdict(thr >= goal)))
    ws, wss = med(groups, ("bulk-ws", "wsgate"), "mb_per_s"), med(groups, ("bulk-wss", "wsgate"), "mb_per_s")
    if ws and wss:
        rows.append(("wss bulk throughput ≥ 0.6× plain ws", fmt(wss / ws), verdict(wss / ws >= 0.6)))
        a, b = med(groups, ("bulk-ws", "wsgate"), "server_cpu_us_per_MB"), med(groups, ("bulk-wss", "wsgate"), "server_cpu_us_per_MB")
        if a and b:
            rows.append(("wss bulk, CPU efficiency vs plain ws (information)", fmt(a / b), "—"))
    lines = ["#### Targets (issue #8)", "", "| target | wsgate / peer | |", "| --- | ---: | --- |"]
    lines += [f"| {t} | {v} | {ok} |" for t, v, ok in rows]
    return lines + [""]


def render(path, records):
    groups = group(records)
    runs = max((r["run"] for r in records), default=0)
    header = [
        f"Measured by `bash Benchmarks/run.sh` then `python3 Benchmarks/report.py` on this project's machine "
        f"(Debian 12, 2 cores, loopback only; server and `wsgate-bench` share the 2 cores), "
        f"results `Benchmarks/results/{os.path.basename(path)}`. Each cell: median of {runs} runs, (min–max). "
        "Server CPU is user + system time of the server process over the measured window, from /proc "
        "(websockify, which forks per connection: its whole process tree over the run); client CPU % is the "
        "bench process's own CPU over its whole run (100 % = one core saturated, i.e. the client is the limit).",
        "",
    ]
    return header + targets(groups) + tables(groups)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = args[0] if args else max(glob.glob(os.path.join(HERE, "results", "*.jsonl")), key=os.path.getmtime)
    text = "\n".join(render(path, load(path)))
    if "--print-only" in sys.argv:
        print(text)
        return
    readme = open(README).read()
    if BEGIN not in readme or END not in readme:
        readme = readme.rstrip("\n") + f"\n\n## Benchmarks\n\n{BEGIN}\n{END}\n"
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    open(README, "w").write(head + BEGIN + "\n" + text + "\n" + END + tail)
    print(text)


if __name__ == "__main__":
    main()
