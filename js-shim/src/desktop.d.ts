// Types for cobrowse-client/desktop: the integration API for agent desktops. The event shape is
// the server's `DesktopEvent` (protocol/src/rest.rs), one definition for streams, webhooks and
// the agent page's postMessage.

/** What an event reports. */
export type DesktopEventType =
  /** A session stream's first event: the session as it is now. */
  | 'state'
  /** An agent joined holding control (`agentId`). */
  | 'join'
  /** The first agent joined; `activatedAt` is that moment. */
  | 'activated'
  /** The last agent left (`agents` is 0). */
  | 'deactivated'
  /** Write mode granted or ended (`mode`). */
  | 'mode'
  /** An agent joined as an observer (`agentId`); another agent holds control. */
  | 'observe'
  /** Control passed to another agent (`agentId`); back in pointer mode until it asks again. */
  | 'control'
  /** The session ended (`endReason`). */
  | 'ended';

/** One session event (times are milliseconds since the Unix epoch). */
export interface DesktopEvent {
  type: DesktopEventType;
  /** The 9-digit session number. */
  token: string;
  /** For `GET history/sessions/{historyId}`. */
  historyId: string;
  state: 'idle' | 'active' | 'ended';
  createdAt: number;
  /** When the first agent joined; `null` while idle. */
  activatedAt: number | null;
  /** The agent the event is about (`join`), else the session's first agent. */
  agentId: string | null;
  agents: number;
  mode: 'pointer' | 'write';
  /** For `ended`: `customer_exit`, `agent_exit`, `controller_stop`, `api_stop`,
   * `inactivity_timeout`, `connection_lost`, `server_shutdown`, `other`. */
  endReason: string | null;
  /** When the server saw it happen. */
  at: number;
}

/** `GET live/sessions/{token}`. */
export interface SessionLookup {
  token: string;
  historyId: string;
  state: 'idle' | 'active' | 'ended';
  /** `null` when answered by a cluster node that does not hold the session. */
  agents: number | null;
  createdAt: number;
  activatedAt: number | null;
  writeModeAllowed: boolean;
  serverUrl: string | null;
  wsUrl: string | null;
  node: { name: string; url: string | null };
  allowedExternalDomains: string[];
  allowedThirdPartyDomains: string[];
}

/** A REST error: `status` and the server's stable `code` (`unauthorized`, `unknown_session`…). */
export class CobrowseApiError extends Error {
  status: number;
  code: string | undefined;
}

export interface DesktopClientOptions {
  /** The Cobrowse server, e.g. `https://cobrowse.example.com`. */
  serverUrl: string;
  /** The agent credential: the agent token or a JWT your desktop signed (`sub` = the agent). */
  credential?: string;
  /** An `EventSource` implementation (Node has none built in). */
  EventSource?: unknown;
  /** A `fetch` implementation (default: the global one). */
  fetch?: typeof fetch;
}

export interface FollowOptions {
  /** A failed ticket request, a dropped or lost stream (it reconnects unless refused). */
  onError?: (error: Error) => void;
}

export interface Following {
  /** Stops following (no reconnect). */
  close(): void;
}

export interface DesktopClient {
  lookup(token: string): Promise<SessionLookup>;
  stop(token: string): Promise<{ state: 'ended' }>;
  history(historyId: string): Promise<Record<string, unknown>>;
  /** `state` first, then the session's events, until `ended`. Reconnects with a new ticket. */
  sessionEvents(token: string, onEvent: (e: DesktopEvent) => void, opts?: FollowOptions): Following;
  /** Every session of one agent on the node the stream is opened on. */
  agentEvents(agentId: string, onEvent: (e: DesktopEvent) => void, opts?: FollowOptions): Following;
}

export function createDesktopClient(options: DesktopClientOptions): DesktopClient;

/** Events the agent page embedded in `frame` posts (only from `agentPageOrigin`, only from that
 * frame). Returns a function that stops listening. */
export function onAgentPageEvents(
  frame: HTMLIFrameElement,
  agentPageOrigin: string,
  onEvent: (e: DesktopEvent) => void,
): () => void;
