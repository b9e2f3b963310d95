// A counting TCP relay for the byte benchmark: what really crosses the wire between a browser and
// the server. Plain TCP pass-through on a loopback port (pages, REST and sockets alike; nothing is
// changed, delayed or terminated), like tests/lib/faults.mjs, which it mirrors in how it tells a
// WebSocket connection (`GET /cobrowse/ws` on its first request line) from the rest. For each
// WebSocket connection it keeps:
//
// * bytes each way, the HTTP upgrade included (`bytes.up`: browser → server);
// * the upgrade request's and answer's headers (so `Sec-WebSocket-Extensions` shows what was
//   negotiated) and their sizes;
// * every browser → server message as it was on the wire: frames parsed (header, mask, payload
//   as sent, i.e. compressed when the browser deflated it), continuation frames joined into their
//   message, control frames (ping/pong/close) apart. `wire` counts a message's every byte on the
//   TCP connection; `payload` the payload as sent; `rsv1` whether it was compressed.
//
// It does not inflate anything: the benchmark matches the n-th data message on the wire with the
// n-th `WebSocket.send` the page made (a socket keeps the order of messages), which tells each
// message's tag from the page's side. Plain Node (`net`), nothing to install.

import net from 'node:net';

/** Starts the relay on 127.0.0.1 (free port) in front of `target` (`http://host:port`). */
export async function startWireRelay(target) {
  const { hostname, port } = new URL(target);
  const links = [];
  const sockets = new Set();
  const other = { up: 0, down: 0, connections: 0 };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.once('data', (first) => {
      client.pause();
      const upstream = net.connect({ host: hostname, port: Number(port) });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      const end = () => { client.destroy(); upstream.destroy(); };
      client.on('error', end);
      upstream.on('error', end);
      client.on('close', end);
      upstream.on('close', end);
      const isLink = first.subarray(0, 64).toString('latin1').startsWith('GET /cobrowse/ws');
      let count;
      if (isLink) {
        const link = new CountedLink(links.length + 1);
        links.push(link);
        count = { up: (c) => link.up(c), down: (c) => link.down(c) };
      } else {
        other.connections += 1;
        count = { up: (c) => { other.up += c.length; }, down: (c) => { other.down += c.length; } };
      }
      count.up(first);
      upstream.write(first);
      client.on('data', (c) => { count.up(c); upstream.write(c); });
      upstream.on('data', (c) => { count.down(c); client.write(c); });
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
      client.resume();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Every WebSocket connection so far, oldest first. */
    links: () => links.slice(),
    /** Bytes of every other connection (pages, scripts, REST). */
    other,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Counters and the parsed browser → server stream of one WebSocket connection. */
class CountedLink {
  constructor(id) {
    this.id = id;
    this.opened = Date.now();
    this.bytes = { up: 0, down: 0 };
    this.request = null; // { bytes, headers } of the upgrade request
    this.response = null; // { bytes, status, headers } of the server's answer
    this.messages = []; // browser → server data messages: { opcode, rsv1, wire, payload, frames, at }
    this.control = { frames: 0, wire: 0 };
    this.inUp = Buffer.alloc(0);
    this.inDown = Buffer.alloc(0);
    this.partial = null; // a data message whose continuation frames are still coming
    this.consumed = 0; // bytes browser → server taken off the stream so far (upgrade, frames)
  }

  /** `Sec-WebSocket-Extensions` of the server's answer ('' when none). */
  extensions() {
    return this.response?.headers['sec-websocket-extensions'] ?? '';
  }

  down(chunk) {
    this.bytes.down += chunk.length;
    if (this.response) return;
    this.inDown = Buffer.concat([this.inDown, chunk]);
    const head = parseHead(this.inDown);
    if (head) {
      this.response = head;
      this.inDown = Buffer.alloc(0);
    }
  }

  up(chunk) {
    this.bytes.up += chunk.length;
    this.inUp = this.inUp.length ? Buffer.concat([this.inUp, chunk]) : chunk;
    if (!this.request) {
      const head = parseHead(this.inUp);
      if (!head) return;
      this.request = head;
      this.consumed += head.bytes;
      this.inUp = this.inUp.subarray(head.bytes);
    }
    this.parseFrames();
  }

  /** Takes every complete frame off the front of the browser → server buffer. */
  parseFrames() {
    let buf = this.inUp;
    for (;;) {
      if (buf.length < 2) break;
      const b0 = buf[0];
      const b1 = buf[1];
      let len = b1 & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) break;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) break;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      if (b1 & 0x80) at += 4; // the mask key (every browser frame has one)
      if (buf.length < at + len) break;
      const frame = { fin: !!(b0 & 0x80), rsv1: !!(b0 & 0x40), opcode: b0 & 0x0f, wire: at + len, payload: len };
      buf = buf.subarray(at + len);
      this.frame(frame);
    }
    this.inUp = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }

  frame(f) {
    this.consumed += f.wire;
    if (f.opcode >= 8) {
      this.control.frames += 1;
      this.control.wire += f.wire;
      return;
    }
    if (f.opcode !== 0) {
      this.partial = { opcode: f.opcode, rsv1: f.rsv1, wire: 0, payload: 0, frames: 0, at: Date.now() };
    }
    const m = this.partial;
    if (!m) return; // a continuation without a start: not a stream we understand
    m.wire += f.wire;
    m.payload += f.payload;
    m.frames += 1;
    if (f.fin) {
      m.end = this.consumed; // the stream's byte offset just after this message
      this.messages.push(m);
      this.partial = null;
    }
  }
}

/** An HTTP head at the start of `buf`: `{ bytes, status, headers }`, or null while incomplete. */
function parseHead(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { bytes: end + 4, start: lines[0], headers };
}
