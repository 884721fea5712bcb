#!/usr/bin/python3
"""Benchmarks/run.sh's Python `websockets` peer (Debian python3-websockets 10.4): /echo sends every
message back; /rooms/<name> sends every message to every member of that room, sender included,
through websockets.broadcast. Usage: python-websockets-server.py PORT [--uvloop] [--deflate]
--deflate: permessage-deflate on, as websockets does by default (12-bit windows, memLevel 5)."""
import asyncio
import sys

import websockets

ROOMS = {}


async def handler(ws, path):
    path = path.split("?")[0]
    if path == "/echo":
        async for message in ws:
            await ws.send(message)
    elif path.startswith("/rooms/"):
        name = path[len("/rooms/"):]
        room = ROOMS.setdefault(name, set())
        room.add(ws)
        try:
            async for message in ws:
                websockets.broadcast(room, message)
        finally:
            room.discard(ws)
            if not room:
                ROOMS.pop(name, None)
    else:
        await ws.close(1008, "no such route")


async def main(port, deflate):
    async with websockets.serve(handler, "127.0.0.1", port, compression="deflate" if deflate else None, max_size=64 << 20,
                                ping_interval=None, max_queue=1024):
        print(f"python-websockets listening on 127.0.0.1:{port}" + (" (permessage-deflate)" if deflate else ""), flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    port = int(next((a for a in sys.argv[1:] if not a.startswith("--")), "18082"))
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    asyncio.run(main(port, "--deflate" in sys.argv))
