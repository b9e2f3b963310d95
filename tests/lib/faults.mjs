// A fault proxy between a browser and the co-browse server: a plain TCP relay on a loopback port
// that passes every connection through untouched, except that the WebSocket connections
// (`GET /cobrowse/ws`, told by their first request line) are *links* the test can hurt:
//
// * `cut`       — the next chunk in either direction is forwarded only in part (a frame cut in
//                 the middle), then both sockets are reset (RST);
// * `delay`     — every chunk waits `ms` before it is forwarded, for `forMs` (order kept);
// * `throttle`  — forwarding is paced to `bytesPerSecond`, for `forMs`;
// * `blackhole` — nothing passes any more, either way, and nothing is closed: no FIN, no RST
//                 (a dead NAT mapping). The ends must find out by their keep-alives.
//
// Written for the chaos case; plain Node (`net`), nothing to install. Pages and REST calls
// through the same port are never hurt, so a page keeps loading while its socket suffers.

import net from 'node:net';

/**
 * Starts a proxy on 127.0.0.1 (free port) in front of `target` (`http://host:port`); `log`
 * (optional) gets a line per link opened, hurt and closed.
 */
export async function startFaultProxy(target, { log = () => {} } = {}) {
  const { hostname, port } = new URL(target);
  const links = new Set();
  const sockets = new Set();
  const stats = { links: 0, cut: 0, delay: 0, throttle: 0, blackhole: 0 };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.once('data', (first) => {
      const upstream = net.connect({ host: hostname, port: Number(port) });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      const isLink = first.subarray(0, 64).toString('latin1').startsWith('GET /cobrowse/ws');
      if (!isLink) {
        upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
        const end = () => { client.destroy(); upstream.destroy(); };
        client.on('error', end);
        upstream.on('error', end);
        client.on('close', end);
        upstream.on('close', end);
        return;
      }
      stats.links += 1;
      const id = stats.links;
      log(`link ${id} opened (browser port ${client.remotePort})`);
      const link = new Link(client, upstream, () => { links.delete(link); log(`link ${id} closed`); });
      link.id = id;
      links.add(link);
      link.forward('up', first);
    });
    client.on('error', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    stats,
    /** Links that still carry traffic (not cut, not black-holed, not closed). */
    live: () => [...links].filter((l) => l.alive()),
    /**
     * Applies `fault` (`{ kind: 'cut' | 'blackhole' }`, `{ kind: 'delay', ms, forMs }`,
     * `{ kind: 'throttle', bytesPerSecond, forMs }`) to the newest live link. Returns false when
     * there is none (the page is between sockets).
     */
    inject(fault) {
      const live = this.live();
      const link = live[live.length - 1];
      if (!link) return false;
      stats[fault.kind] += 1;
      log(`link ${link.id}: ${JSON.stringify(fault)}`);
      link.hurt(fault);
      return true;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One proxied WebSocket connection, forwarding both ways through a scheduler that can hurt it. */
class Link {
  constructor(client, upstream, gone) {
    this.ends = { up: upstream, down: client };
    this.mode = 'pass'; // pass | cutting | hole | dead
    this.delayMs = 0;
    this.delayUntil = 0;
    this.rate = 0;
    this.rateUntil = 0;
    this.queues = { up: [], down: [] };
    this.busy = { up: false, down: false };
    client.on('data', (c) => this.forward('up', c));
    upstream.on('data', (c) => this.forward('down', c));
    const closed = (from) => () => {
      // A black hole closes nothing: the other end must notice by itself.
      if (this.mode === 'hole') return;
      this.mode = 'dead';
      const other = from === client ? upstream : client;
      other.end();
      gone();
    };
    client.on('end', closed(client));
    upstream.on('end', closed(upstream));
    for (const s of [client, upstream]) {
      s.on('error', () => {
        if (this.mode === 'hole') return;
        this.mode = 'dead';
        client.destroy();
        upstream.destroy();
        gone();
      });
    }
  }

  alive() {
    return this.mode === 'pass';
  }

  hurt(fault) {
    const now = Date.now();
    switch (fault.kind) {
      case 'cut': this.mode = 'cutting'; break;
      case 'blackhole': this.mode = 'hole'; break;
      case 'delay': this.delayMs = fault.ms; this.delayUntil = now + fault.forMs; break;
      case 'throttle': this.rate = fault.bytesPerSecond; this.rateUntil = now + fault.forMs; break;
      default: throw new Error(`unknown fault ${fault.kind}`);
    }
  }

  /** One chunk that arrived for direction `dir` (`up`: browser → server). */
  forward(dir, chunk) {
    if (this.mode === 'hole' || this.mode === 'dead') return;
    if (this.mode === 'cutting') {
      // Part of this chunk (so a frame is cut in the middle), then a reset both ways.
      this.mode = 'dead';
      const to = this.ends[dir];
      const part = chunk.subarray(0, Math.max(1, chunk.length >> 1));
      to.write(part, () => {
        this.ends.up.resetAndDestroy();
        this.ends.down.resetAndDestroy();
      });
      return;
    }
    const now = Date.now();
    const delay = now < this.delayUntil ? this.delayMs : 0;
    this.queues[dir].push({ chunk, at: now + delay });
    this.drain(dir);
  }

  async drain(dir) {
    if (this.busy[dir]) return;
    this.busy[dir] = true;
    const q = this.queues[dir];
    while (q.length && (this.mode === 'pass')) {
      const { chunk, at } = q[0];
      const wait = at - Date.now();
      if (wait > 0) await sleep(wait);
      if (this.mode !== 'pass') break;
      q.shift();
      if (Date.now() < this.rateUntil && this.rate > 0) {
        // Paced: small slices, each after its share of time.
        for (let i = 0; i < chunk.length && this.mode === 'pass'; i += 512) {
          const slice = chunk.subarray(i, i + 512);
          this.ends[dir].write(slice);
          await sleep((slice.length / this.rate) * 1000);
        }
      } else {
        this.ends[dir].write(chunk);
      }
    }
    this.busy[dir] = false;
    if (this.mode === 'cutting' && q.length) this.forward(dir, q.shift().chunk);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
