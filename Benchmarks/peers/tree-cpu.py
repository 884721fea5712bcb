#!/usr/bin/python3
"""Prints the CPU seconds (user + system, children reaped included) of PID and all its live
descendants, and their summed RSS in KiB: `tree-cpu.py PID` -> "12.34 56789". Used by run.sh for
servers that fork a process per connection (websockify), where /proc/PID alone misses the work."""
import os
import sys

root = int(sys.argv[1])
tick = os.sysconf("SC_CLK_TCK")
parent, cpu, rss = {}, {}, {}
for name in os.listdir("/proc"):
    if not name.isdigit():
        continue
    try:
        with open(f"/proc/{name}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{name}/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        continue
    pid = int(name)
    parent[pid] = int(fields[1])
    cpu[pid] = sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
    rss[pid] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
tree, frontier = {root}, [root]
while frontier:
    p = frontier.pop()
    for child, pp in parent.items():
        if pp == p and child not in tree:
            tree.add(child)
            frontier.append(child)
print("%.3f %d" % (sum(cpu.get(p, 0) for p in tree), sum(rss.get(p, 0) for p in tree)))
