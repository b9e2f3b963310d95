// cobrowse-client/desktop: the integration API for agent desktops, in the browser or Node 18+
// (global fetch; EventSource in the browser, or pass one). Wraps the REST lookup and stop, the
// session's and the agent's event streams (tickets for EventSource, reconnect with backoff,
// stop after `ended`), and the agent page's postMessage events.
//
// The event shape is the server's DesktopEvent (protocol/src/rest.rs); see desktop.d.ts.

const REST = '/cobrowse/rest';

/** Reconnect delays: 0.5 s doubling to 15 s, times [0.5, 1) (common/src/backoff.rs). */
function delay(attempt) {
  const cap = Math.min(500 * 2 ** Math.min(attempt, 16), 15000);
  return cap * (0.5 + Math.random() / 2);
}

class CobrowseApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.name = 'CobrowseApiError';
    this.status = status;
    this.code = code;
  }
}

export { CobrowseApiError };

/**
 * A client for one Cobrowse server and one agent credential.
 * @param {{serverUrl: string, credential?: string, EventSource?: typeof EventSource, fetch?: typeof fetch}} options
 */
export function createDesktopClient(options) {
  const base = String(options.serverUrl || '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) throw new TypeError('serverUrl must be an absolute http(s) URL');
  const doFetch = options.fetch || globalThis.fetch.bind(globalThis);
  const ES = options.EventSource || globalThis.EventSource;
  const auth = options.credential ? { authorization: `Bearer ${options.credential}` } : {};

  async function call(method, path) {
    const r = await doFetch(base + REST + path, { method, headers: { ...auth } });
    const body = await r.json().catch(() => null);
    if (!r.ok) {
      const e = body && body.error;
      throw new CobrowseApiError(r.status, e && e.code, e && e.message);
    }
    return body;
  }

  const sid = (token) => {
    const t = String(token).replace(/[\s-]/g, '');
    if (!/^[0-9]{9}$/.test(t)) throw new TypeError('a session number has 9 digits');
    return t;
  };

  function follow(path, onEvent, opts = {}) {
    if (!ES) throw new TypeError('no EventSource: pass one in the options (Node)');
    let source = null;
    let closed = false;
    let attempt = 0;
    let timer = null;
    const again = () => {
      if (closed) return;
      timer = setTimeout(open, delay(attempt++));
    };
    async function open() {
      if (closed) return;
      let ticket;
      try {
        ({ ticket } = await call('POST', '/live/event-tickets'));
      } catch (e) {
        if (opts.onError) opts.onError(e);
        if (e.status === 401 || e.status === 403) return void (closed = true);
        return again();
      }
      if (closed) return;
      source = new ES(`${base}${REST}${path}?ticket=${encodeURIComponent(ticket)}`);
      source.onopen = () => { attempt = 0; };
      source.onmessage = (m) => {
        let event;
        try { event = JSON.parse(m.data); } catch { return; }
        onEvent(event);
        if (event.type === 'ended' && path.startsWith('/live/sessions/')) handle.close();
      };
      // A dropped subscriber (too slow) or a lost connection: a new ticket, a new stream.
      const lost = (why) => {
        if (source) source.close();
        source = null;
        if (opts.onError && why) opts.onError(why);
        again();
      };
      source.addEventListener('dropped', (m) => lost(new Error(`dropped: ${m.data}`)));
      source.onerror = () => lost(null);
    }
    const handle = {
      close() {
        closed = true;
        clearTimeout(timer);
        if (source) source.close();
        source = null;
      },
    };
    open();
    return handle;
  }

  return {
    /** The live session with this number: state, agents, createdAt, activatedAt, node… */
    lookup: (token) => call('GET', `/live/sessions/${sid(token)}`),
    /** Ends the session. */
    stop: (token) => call('POST', `/live/sessions/${sid(token)}/stop`),
    /** The record of a session, live or ended. */
    history: (historyId) => call('GET', `/history/sessions/${encodeURIComponent(historyId)}`),
    /** Follows one session: `state` first, then its events, until `ended`. */
    sessionEvents: (token, onEvent, opts) =>
      follow(`/live/sessions/${sid(token)}/events`, onEvent, opts),
    /** Follows every session of one agent (on the node the stream is opened on). */
    agentEvents: (agentId, onEvent, opts) =>
      follow(`/live/agents/${encodeURIComponent(agentId)}/events`, onEvent, opts),
  };
}

/**
 * Calls `onEvent` with each event the embedded agent page (`slave.html` in `frame`) posts.
 * Messages from any other window or origin are ignored. Returns a function that stops listening.
 * @param {HTMLIFrameElement} frame
 * @param {string} agentPageOrigin the Cobrowse server's origin, e.g. `https://cobrowse.example.com`
 */
export function onAgentPageEvents(frame, agentPageOrigin, onEvent) {
  const listener = (m) => {
    if (m.origin !== agentPageOrigin || m.source !== frame.contentWindow) return;
    const event = m.data && m.data.cobrowse;
    if (event && typeof event.type === 'string') onEvent(event);
  };
  window.addEventListener('message', listener);
  return () => window.removeEventListener('message', listener);
}
