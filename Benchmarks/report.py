#!/usr/bin/python3
"""Turns a Benchmarks/results/*.jsonl (from Benchmarks/run.sh) into Markdown tables, median of the
runs with min–max, plus issue #8's and issue #18's targets as ratios, and puts them into README.md between
`<!-- bench:begin -->` and `<!-- bench:end -->` (added under `## Benchmarks` at the end if missing).

    python3 Benchmarks/report.py                      # the newest results file
    python3 Benchmarks/report.py results/X.jsonl      # that one
    python3 Benchmarks/report.py --print-only         # print, leave README.md alone
    python3 Benchmarks/report.py --partial X.jsonl    # write even a run of some scenarios only (else printed only)
"""
import glob
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "README.md")
# What a full `bash Benchmarks/run.sh` records at least (its default scenarios).
FULL_RUN_SCENARIOS = {"echo", "broadcast", "broadcast100", "idle", "bridge", "bulk-ws", "bulk-wss", "echo-ws", "echo-wss",
                      "broadcast4000", "bigroom", "idle-rfc", "hs-rfc6455"}
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

SCENARIOS = {
    "echo": "Echo: 64 connections × 64 B, closed loop",
    "broadcast": "Broadcast: 1 room, 200 receivers, 1 sender, 2,000 msg/s × 64 B",
    "broadcast100": "Broadcast: 1 room, 200 receivers, 1 sender, 100 msg/s × 64 B",
    "idle": "Idle: 10,000 connections held (wsgate: half RFC 6455, half hixie-76; peers: RFC 6455)",
    "bridge": "Bridge: 4 connections × 64 KiB × 4 in flight, through to a TCP echo",
    "bulk": "wss:// vs ws:// bulk: wsgate `/echo`, 4 connections × 64 KiB × 4 in flight",
    "broadcast4000": "Broadcast: 1 room, 200 receivers, 1 sender, 4,000 msg/s × 64 B, waiting for every delivery (missing = lost)",
    "saturate": "Saturation: wsgate alone, 200 receivers, offered 6,000 / 8,000 / 12,000 msg/s "
                "(1 sender, 64 B, waiting for every delivery, 2 client threads)",
    "bigroom": "Big room: 1 room, 5,000 receivers, 1 sender, 20 msg/s × 64 B, waiting for every delivery "
               "(wsgate: half RFC 6455, half hixie-76; peers: RFC 6455)",
    "idle-rfc": "Idle: 10,000 connections held, RFC 6455 only",
    "handshakes": "Handshakes: 10,000 connections opened, 128 at a time (TLS: 3,000), on a fresh server "
                  "(nginx-tls: nginx terminating TLS in front of node ws; its server CPU is its master and workers', "
                  "the backend's is node ws's; CPU per connection over the whole run: connect, hold, close)",
    "echo-small": "Small messages over ws:// and wss://: wsgate `/echo`, 64 connections × 64 B, closed loop",
}

# The README's tables in order; a table shows its scenarios (table_keys) with a scenario's columns.
ORDER = ["echo", "broadcast", "broadcast100", "broadcast4000", "saturate", "bigroom", "idle", "idle-rfc", "handshakes",
         "bridge", "bulk", "echo-small"]
COLUMNS_OF = {"broadcast100": "broadcast", "broadcast4000": "broadcast", "saturate": "broadcast", "bigroom": "broadcast",
              "idle-rfc": "idle", "echo-small": "echo"}
# hs-* scenario -> its row's name, in table order.
HANDSHAKES = {"hs-rfc6455": "RFC 6455", "hs-hixie76": "hixie-76", "hs-rfc6455-tls": "RFC 6455 over TLS (wss://), full handshakes",
              "hs-rfc6455-tls-resume": "RFC 6455 over TLS (wss://), sessions resumed"}

# Servers run.sh measures that are not peers: never compared against for a target, listed last.
# c-epoll-floor (Benchmarks/peers/c-epoll-ws-echo.c) is a minimal hand-written C epoll WebSocket echo
# server, one read() and one write() per message and nothing else: the floor for the echo target.
# nio-floor (Benchmarks/nio-floor-server) is one hand-written ChannelInboundHandler on SwiftNIO's
# NIOPosix and nothing else: the floor of a server on SwiftNIO, so that wsgate's CPU per message can be
# split into NIO's channel machinery and what wsgate adds.
NOT_PEERS = {"c-epoll-floor": "C epoll floor (not a peer)", "nio-floor": "NIO floor (not a peer)"}


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
    if r["scenario"] in HANDSHAKES and x.get("connections"):
        # The server's process tree over the whole run (run.sh's sampling): nginx's workers too.
        x["server_cpu_us_per_conn"] = r["server_tree_cpu_s"] * 1e6 / x["connections"] if "server_tree_cpu_s" in r else None
        if "backend_tree_cpu_s" in r:
            x["backend_cpu_us_per_conn"] = r["backend_tree_cpu_s"] * 1e6 / x["connections"]
    if r["server"] == "nginx-tls":
        x["server_cpu_pct"] = None  # the bench's --server-pid is nginx's master alone
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
    "handshakes": [("connections", "connections", "{:.0f}"), ("TLS resumed", "tls_resumed", "{:.0f}"),
                   ("handshakes/s", "handshakes_per_s", "{:.0f}"),
                   ("server CPU-µs/conn", "server_cpu_us_per_conn", "{:.0f}"),
                   ("backend CPU-µs/conn", "backend_cpu_us_per_conn", "{:.0f}"),
                   ("server CPU %", "server_cpu_pct", "{:.0f}")],
}


def saturate_rate(scenario):
    return int(scenario[len("saturate"):])


def table_keys(table, groups):
    if table == "bulk":
        return [k for k in groups if k[0].startswith("bulk-")]
    if table == "saturate":
        return [k for k in groups if k[0].startswith("saturate") and k[0][len("saturate"):].isdigit()]
    if table == "echo-small":
        return [k for k in groups if k[0] in ("echo-ws", "echo-wss")]
    if table == "handshakes":
        return [k for k in groups if k[0] in HANDSHAKES]
    return [k for k in groups if k[0] == table]


def row_name(table, key):
    if table in ("bulk", "echo-small"):
        return f"{key[1]} {key[0].split('-', 1)[1]}://"
    if table == "saturate":
        return f"{key[1]} {saturate_rate(key[0]):,} msg/s"
    if table == "handshakes":
        return f"{key[1]} {HANDSHAKES[key[0]]}"
    return NOT_PEERS.get(key[1], key[1])


def row_order(table, key):
    server = (key[1] != "wsgate", key[1] in NOT_PEERS)
    if table == "saturate":
        return server + (saturate_rate(key[0]), key[1])
    if table == "handshakes":
        return (list(HANDSHAKES).index(key[0]),) + server + (key[1],)
    return server + (key[0], key[1])


def cipher_line(groups):
    """The cipher alone (run.sh's wss scenario, `openssl speed`), one sentence."""
    found = [(k[1][len("openssl-"):], med(groups, k, "mb_per_s")) for k in sorted(groups, reverse=True) if k[0] == "cipher"]
    found = [(c, v) for c, v in found if v]
    if not found:
        return []
    speeds = ", ".join(f"{c} {v:,.0f} MB/s" for c, v in found)
    return ["#### The cipher alone", "",
            f"`openssl speed -evp`, 16 KiB blocks, one core: {speeds}; through a wss:// server (decrypt in, encrypt out) "
            f"that is 2 × 10⁶ / (MB/s) CPU-µs per MB, {', '.join(f'{c} {2e6 / v:.0f}' for c, v in found)}.", ""]


def tables(groups):
    lines = []
    for table in ORDER:
        keys = table_keys(table, groups)
        if not keys:
            continue
        columns = COLUMNS[COLUMNS_OF.get(table, table)]
        lines += [f"#### {SCENARIOS[table]}", ""]
        lines.append("| server | " + " | ".join(c[0] for c in columns) + " |")
        lines.append("| --- | " + " | ".join("---:" for _ in columns) + " |")
        for key in sorted(keys, key=lambda k: row_order(table, k)):
            runs = groups[key]
            lines.append(f"| {row_name(table, key)} | " + " | ".join(cell([r.get(c[1]) for r in runs], c[2]) for c in columns) + " |")
        lines.append("")
    return lines + cipher_line(groups)


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
    r = ratio(med(groups, ("echo", "nio-floor"), "server_cpu_us_per_msg"), med(groups, ("echo", "node-ws"), "server_cpu_us_per_msg"))
    if r is not None:
        rows.append(("echo NIO floor (information): the NIO floor's server CPU per message vs node ws "
                     "(the least a server on SwiftNIO can do here)", fmt(r), "—"))
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


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def times(v):
    return "—" if v is None else f"{v:.2f}×"


def at_most(v, goal):
    return verdict(None if v is None else v <= goal)


def best_peer(groups, scenario, field, pick=min):
    """The peer of a scenario with the lowest (pick=min) or highest (pick=max) median of field."""
    peers = [k for k in groups if k[0] == scenario and is_peer(k) and med(groups, k, field) is not None]
    return pick(peers, key=lambda k: med(groups, k, field)) if peers else None


def versus_best(groups, scenario, field, pick=min):
    """(wsgate's median / the best peer's, the best peer's name), None when either is absent."""
    best = best_peer(groups, scenario, field, pick)
    if best is None:
        return None, None
    return ratio(med(groups, (scenario, "wsgate"), field), med(groups, best, field)), best[1]


def named(what, name):
    return f" ({what}: {name})" if name else ""


def lost(runs):
    return sum((x.get("missing", 0) or 0) + (x.get("duplicate_or_reordered", 0) or 0) + (x.get("gaps", 0) or 0) for x in runs)


def saturation(groups):
    """Issue #18's saturation line: the highest offered rate at which wsgate delivered everything in
    every run, and the first at which it did not."""
    rates = sorted(saturate_rate(k[0]) for k in table_keys("saturate", groups) if k[1] == "wsgate")
    if not rates:
        return "—"
    runs = {rate: groups[(f"saturate{rate}", "wsgate")] for rate in rates}
    clean = [rate for rate in rates if all((x.get("missing", 0) or 0) == 0 for x in runs[rate])]
    short = [rate for rate in rates if rate not in clean]
    parts = []
    if clean:
        top = max(clean)
        d = med(groups, (f"saturate{top}", "wsgate"), "deliveries_per_s")
        parts.append(f"all delivered up to {top:,} msg/s ({d:,.0f} deliveries/s)")
    else:
        parts.append(f"not all delivered at any rate from {rates[0]:,} msg/s")
    if short:
        first = min(short)
        m = med(groups, (f"saturate{first}", "wsgate"), "missing")
        parts.append(f"first short at {first:,} msg/s (median {m:,.0f} missing)")
    return "; ".join(parts)


def targets_round2(groups):
    rows = []
    # a. echo
    r = ratio(med(groups, ("echo", "wsgate"), "server_cpu_us_per_msg"), med(groups, ("echo", "node-ws"), "server_cpu_us_per_msg"))
    rows.append(("echo: server CPU per message ≤ 0.85× node ws", times(r), at_most(r, 0.85)))
    w, f = med(groups, ("echo", "wsgate"), "server_cpu_us_per_msg"), med(groups, ("echo", "nio-floor"), "server_cpu_us_per_msg")
    if w is not None and f is not None:
        rows.append(("echo (information): wsgate's server CPU per message vs the NIO floor's (SwiftNIO's own share)",
                     f"{w:.2f} µs vs {f:.2f} µs ({times(ratio(w, f))})", "—"))
    # b.–d. broadcast 4,000 msg/s
    r, most = versus_best(groups, "broadcast4000", "deliveries_per_s", max)
    rows.append((f"broadcast 4,000 msg/s: more deliveries/s than every peer{named('most', most)}", times(r),
                 verdict(None if r is None else r > 1)))
    runs = groups.get(("broadcast4000", "wsgate"))
    bad = lost(runs) if runs else None
    rows.append(("broadcast 4,000 msg/s: nothing lost, duplicated or reordered (all wsgate runs)",
                 "—" if bad is None else f"{bad:.0f} bad", verdict(None if bad is None else bad == 0)))
    r, best = versus_best(groups, "broadcast4000", "server_cpu_us_per_delivery")
    rows.append((f"broadcast 4,000 msg/s (information): CPU per delivery vs the best peer{named('best', best)}", times(r), "—"))
    # e. saturation
    rows.append(("saturation (information): wsgate alone, 200 receivers, 6,000 / 8,000 / 12,000 msg/s offered",
                 saturation(groups), "—"))
    # f.–g. big room
    best = best_peer(groups, "bigroom", "latency_p99_us")
    w = med(groups, ("bigroom", "wsgate"), "latency_p99_us")
    p = med(groups, best, "latency_p99_us") if best else None
    rows.append(("big room, 5,000 members at 20 msg/s: lowest p99 of all",
                 "—" if w is None or p is None else f"{w:,.0f} µs vs {p:,.0f} µs ({best[1]})",
                 verdict(None if w is None or p is None else w < p)))
    r, best = versus_best(groups, "bigroom", "server_cpu_us_per_delivery")
    rows.append((f"big room (information): CPU per delivery vs the best peer{named('best', best)}", times(r), "—"))
    # h.–i. idle
    w = med(groups, ("idle-rfc", "wsgate"), "server_rss_kib_per_conn")
    rows.append(("idle, RFC 6455 only: ≤ 4 KiB server RSS per connection (10,000)",
                 "—" if w is None else f"{w:.2f} KiB", at_most(w, 4)))
    w = med(groups, ("idle", "wsgate"), "server_rss_kib_per_conn")
    rows.append(("idle, mixed rfc6455 + hixie-76: ≤ 3.5 KiB server RSS per connection (10,000)",
                 "—" if w is None else f"{w:.2f} KiB", at_most(w, 3.5)))
    # j. wss bulk against plain ws plus the cipher's own cost (two AES-GCM passes per MB: decrypt in, encrypt out)
    cipher = next((c for c in ("aes-256-gcm", "aes-128-gcm") if med(groups, ("cipher", f"openssl-{c}"), "mb_per_s")), None)
    ws, wss = med(groups, ("bulk-ws", "wsgate"), "server_cpu_us_per_MB"), med(groups, ("bulk-wss", "wsgate"), "server_cpu_us_per_MB")
    own = 2e6 / med(groups, ("cipher", f"openssl-{cipher}"), "mb_per_s") if cipher else None
    ok = None if ws is None or wss is None or own is None else wss <= 1.25 * (ws + own)
    rows.append((f"wss bulk: server CPU per MB ≤ 1.25 × (plain ws + the cipher's own cost, {cipher or 'aes-256-gcm'})",
                 "—" if ok is None else f"wss {wss:.0f} µs/MB vs 1.25 × (ws {ws:.0f} + cipher {own:.0f})", verdict(ok)))
    # k. wss small messages
    r = ratio(med(groups, ("echo-wss", "wsgate"), "server_cpu_us_per_msg"), med(groups, ("echo-ws", "wsgate"), "server_cpu_us_per_msg"))
    rows.append(("wss small-message echo: server CPU per message ≤ 1.3× plain ws", times(r), at_most(r, 1.3)))
    # l. handshakes
    w, p = med(groups, ("hs-rfc6455", "wsgate"), "handshakes_per_s"), med(groups, ("hs-rfc6455", "node-ws"), "handshakes_per_s")
    rows.append(("handshakes (information): RFC 6455 handshakes/s vs node ws",
                 "—" if w is None or p is None else f"{w:,.0f}/s vs {p:,.0f}/s ({times(ratio(w, p))})", "—"))
    for server in ("wsgate", "nginx-tls"):
        full = med(groups, ("hs-rfc6455-tls", server), "handshakes_per_s")
        resumed = med(groups, ("hs-rfc6455-tls-resume", server), "handshakes_per_s")
        if full is not None and resumed is not None:
            rows.append((f"handshakes (information): {server} wss:// handshakes/s, full vs sessions resumed",
                         f"{full:,.0f}/s vs {resumed:,.0f}/s ({times(ratio(resumed, full))})", "—"))
    for scenario, what in (("hs-rfc6455-tls", "full"), ("hs-rfc6455-tls-resume", "resumed")):
        w, n = med(groups, (scenario, "wsgate"), "handshakes_per_s"), med(groups, (scenario, "nginx-tls"), "handshakes_per_s")
        if w is not None and n is not None:
            rows.append((f"handshakes (information): wss:// {what} handshakes/s, wsgate vs nginx-tls (in front of node ws)",
                         f"{w:,.0f}/s vs {n:,.0f}/s ({times(ratio(w, n))})", "—"))
    lines = ["#### Targets (issue #18, round 2)", "", "| target | measured | |", "| --- | ---: | --- |"]
    lines += [f"| {t} | {v} | {ok} |" for t, v, ok in rows]
    return lines + [""]


def load_sentence(records):
    loads = stat([r.get("loadavg_1m") for r in records])
    if loads is None:
        return ""
    return (f" The host's 1-minute load average just before a run: median {loads[0]:.2f} ({loads[1]:.2f}–{loads[2]:.2f}; "
            "it includes this benchmark's own previous runs, so up to ~2 is the benchmark itself on 2 cores).")


def render(path, records):
    groups = group(records)
    runs = max((r["run"] for r in records), default=0)
    header = [
        f"Measured by `bash Benchmarks/run.sh` then `python3 Benchmarks/report.py` on this project's machine "
        f"(Debian 12, 2 cores, loopback only; server and `wsgate-bench` share the 2 cores), "
        f"results `Benchmarks/results/{os.path.basename(path)}`. Each cell: median of {runs} runs, (min–max). "
        "Server CPU is user + system time of the server process over the measured window, from /proc "
        "(websockify, which forks per connection: its whole process tree over the run); client CPU % is the "
        "bench process's own CPU over its whole run (100 % = one core saturated, i.e. the client is the limit)."
        + load_sentence(records),
        "",
    ]
    return header + targets(groups) + targets_round2(groups) + tables(groups)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = args[0] if args else max(glob.glob(os.path.join(HERE, "results", "*.jsonl")), key=os.path.getmtime)
    text = "\n".join(render(path, load(path)))
    if "--print-only" in sys.argv:
        print(text)
        return
    # The README's block is one full run: a partial one (some scenarios only) is printed, not written,
    # unless asked for (--partial), so that a quick look never replaces the full tables.
    present = {r.get("scenario") for r in load(path)}
    missing = sorted(FULL_RUN_SCENARIOS - present)
    if missing and "--partial" not in sys.argv:
        print(text)
        print(f"\nREADME.md left alone: {os.path.basename(path)} is a partial run (no {', '.join(missing)}); "
              "--partial writes it anyway", file=sys.stderr)
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
