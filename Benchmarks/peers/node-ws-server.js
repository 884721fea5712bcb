// Benchmarks/run.sh's node `ws` peer (Debian node-ws): /echo sends every message back;
// /rooms/<name> sends every message to every member of that room, sender included.
// Usage: NODE_PATH=/usr/share/nodejs node node-ws-server.js PORT [--deflate]
// --deflate: permessage-deflate on (ws's defaults: context takeover, 15-bit windows, level 6), with
// the threshold at 64 bytes like wsgate's compression_min_bytes (ws's default is 1024).
'use strict';
const { WebSocketServer } = require('ws');

const port = parseInt(process.argv.slice(2).find((a) => !a.startsWith('--')) || '18081', 10);
const deflate = process.argv.includes('--deflate');
const rooms = new Map();
const wss = new WebSocketServer({
  host: '127.0.0.1', port, maxPayload: 64 << 20,
  perMessageDeflate: deflate ? { threshold: 64 } : false,
});

wss.on('connection', (ws, req) => {
  const path = req.url.split('?')[0];
  if (path === '/echo') {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  } else if (path.startsWith('/rooms/')) {
    const name = path.slice(7);
    let room = rooms.get(name);
    if (!room) { room = new Set(); rooms.set(name, room); }
    room.add(ws);
    ws.on('message', (data, isBinary) => {
      for (const member of room) member.send(data, { binary: isBinary });
    });
    ws.on('close', () => { room.delete(ws); if (room.size === 0) rooms.delete(name); });
  } else {
    ws.close(1008, 'no such route');
  }
});
wss.on('listening', () => console.log(`node-ws listening on 127.0.0.1:${port}${deflate ? ' (permessage-deflate)' : ''}`));
