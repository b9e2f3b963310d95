// Types for the cobrowse-client npm package (and window.Cobrowse of the script-tag loader).

/** Corner of the co-browse button. */
export type ButtonPosition = 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';

/** Texts of the customer UI (keys of `www/locales/customer/en.json`); any subset overrides the
 * language's texts. */
export interface CobrowseTexts {
  button?: string;
  buttonLabel?: string;
  panelLabel?: string;
  confirmQuestion?: string;
  yes?: string;
  no?: string;
  needAgent?: string;
  close?: string;
  sessionNumber?: string;
  readToAgent?: string;
  copy?: string;
  copied?: string;
  exit?: string;
  connecting?: string;
  reconnecting?: string;
  agentJoined?: string;
  agentLeft?: string;
  ended?: string;
  reasonCustomer?: string;
  reasonAgent?: string;
  reasonStopped?: string;
  reasonTimeout?: string;
  reasonConnection?: string;
  reasonServer?: string;
  agentBusy?: string;
  error?: string;
  writeRequest?: string;
  allow?: string;
  deny?: string;
  revoke?: string;
  controlGranted?: string;
  controlRevoked?: string;
  watchersLabel?: string;
  watcherInControl?: string;
  watcherObserving?: string;
  watcherUnnamed?: string;
}

/** A DOM restriction rule, the shape of the server's `dom-restrictions.json` rules. The page's
 * rules are added after the server's and can never remove one; a key not listed here is an error
 * (a misspelt `urlPattern` must not silently apply a rule to every page). */
export interface CobrowseRestriction {
  /** CSS selector (list). */
  selector: string;
  /** `mask`: text and values replaced before they leave the browser; `hide`: sent as an empty box
   * of the same size; `restrict`: the agent cannot click, type into or focus it, even in write mode. */
  action: 'mask' | 'hide' | 'restrict';
  /** Only on pages whose URL matches this pattern (`*` matches any run of characters). */
  urlPattern?: string;
}

/** Configuration (`window.cobrowseConfig` for the loader, `init`/`start` options here). */
export interface CobrowseConfig {
  /** Base URL of the Cobrowse server, e.g. `https://cobrowse.example.com`. Required for npm. */
  serverUrl?: string;
  /** Console logging. */
  debug?: boolean;
  /** Show the co-browse button (loader default `true`, npm default `false`). */
  button?: boolean;
  /** Corner of the button. Default `bottom-right`. */
  buttonPosition?: ButtonPosition;
  /** Ask "are you on a call or chat with an agent?" before starting from the button. */
  confirmCall?: boolean;
  /** Language of the UI (`de`, `pt-BR`): default the page's `<html lang>`, then the browser's.
   * `en` and `de` are built in; others load from `/cobrowse/locales/customer/<tag>.json`. */
  locale?: string;
  /** Text overrides. */
  texts?: CobrowseTexts;
  /** Ask the customer when the agent requests control (write mode); `false` declines at once. Default `true`. */
  writeMode?: boolean;
  /** Images the agent cannot load (`blob:` URLs, and http(s) images matching `selector`, read with
   * the customer's credentials) are sent inline as `data:` URLs up to `maxBytes` (default 65536;
   * `0` turns this off). Masked and hidden images never are. */
  inlineImages?: { maxBytes?: number; selector?: string };
  /** The page's own DOM restriction rules, added to the server's (add-only). */
  restrictions?: CobrowseRestriction[];
  /** How masked fields look on the customer's own screen while a session runs: a CSS text in which
   * `{sel}` stands for the masked selector list, `true` (default) for the built-in marker, `false`
   * for none. */
  maskMarker?: string | boolean;
  /** URL parameters whose values never leave the browser, by name (matched in any case, also
   * percent-encoded), in the query and in a fragment that carries parameters (`#access_token=…`).
   * They are masked in the page's and frames' addresses — so the session's history stores the
   * masked URL — and in links and other URL attributes. `"*"` masks every parameter of the page's
   * address (links keep theirs: use a `mask` restriction for those). OAuth tokens, `password`,
   * `api_key` and a few other credential names are always masked. A blank name is an error. */
  maskUrlParameters?: string[];
  /** Mask the document title (`<title>` and the title the session's history keeps). */
  maskTitle?: boolean;
  /** What a page that changes without pause may upload: a bucket of `burstBytes` (default
   * 1048576), refilled at `bytesPerSecond` (default 25600), pays for snapshots and page changes;
   * changes it cannot pay for are held and replaced by one fresh snapshot once it has refilled.
   * Pointer, scroll, viewport and clicks are never held. `unlimited: true` turns it off; a zero
   * size or rate is an error. */
  uploadBudget?: { burstBytes?: number; bytesPerSecond?: number; unlimited?: boolean };
}

/** `init`/`start` options of the npm package. */
export interface CobrowseOptions extends CobrowseConfig {
  /** Folder holding `cobrowse_client.js` and `cobrowse_client_bg.wasm` (a copy of the server's
   * `/cobrowse/js/client/`), for sites that host the client themselves. Default:
   * `<serverUrl>/cobrowse/js/client/`, so the client always matches the server. */
  clientUrl?: string | URL;
}

/** Public session state. */
export type CobrowseState = 'idle' | 'active' | 'ended';

/** Why a session ended. */
export type EndReason =
  | 'customer_exit'
  | 'agent_exit'
  | 'controller_stop'
  | 'api_stop'
  | 'inactivity_timeout'
  | 'connection_lost'
  | 'server_shutdown'
  | 'other';

/** Error details (`error` events and rejected promises). */
export interface CobrowseError {
  /** snake_case code: `network`, `no_server_url`, `load_failed`, `bad_response`, `busy`, `cancelled`,
   *  `refused`, or a server code such as `rate_limited`, `unknown_session`, `origin_refused`. */
  code: string;
  message: string;
}

/** Event name → payload. */
export interface CobrowseEvents {
  session: { token: string; historyId: string };
  state: CobrowseState;
  agentJoined: { agentId?: string };
  agentLeft: { agentId?: string };
  ended: { reason: EndReason; detail?: string };
  /** Interaction mode changed: `write` after the customer granted control, `pointer` after. */
  mode: 'pointer' | 'write';
  error: CobrowseError;
}

export type CobrowseEventName = keyof CobrowseEvents;
export type CobrowseHandler<E extends CobrowseEventName> = (payload: CobrowseEvents[E]) => void;

/** Mounts the button (with `button: true`) without loading the client, which comes when the
 * button is pressed or `start()` is called; a session an earlier page of this site started
 * resumes at once (loading the client then). Resolves once the API reflects the page's session. */
export function init(options?: CobrowseOptions): Promise<unknown>;
/** Starts a session; resolves with the 9-digit token. */
export function start(options?: CobrowseOptions): Promise<string>;
/** Ends the session. */
export function stop(): void;
export function on<E extends CobrowseEventName>(event: E, cb: CobrowseHandler<E>): void;
export function off<E extends CobrowseEventName>(event: E, cb: CobrowseHandler<E>): void;
/** The 9-digit session number, or null. */
export function sessionId(): string | null;
export function state(): CobrowseState;
/** Removes the UI and listeners without ending the session. */
export function destroy(): void;

declare const Cobrowse: {
  init: typeof init;
  start: typeof start;
  stop: typeof stop;
  on: typeof on;
  off: typeof off;
  sessionId: typeof sessionId;
  state: typeof state;
  destroy: typeof destroy;
};
export default Cobrowse;

/** The script-tag loader's global. */
export interface CobrowseGlobal {
  start(): Promise<string>;
  stop(): Promise<void>;
  on<E extends CobrowseEventName>(event: E, cb: CobrowseHandler<E>): CobrowseGlobal;
  off<E extends CobrowseEventName>(event: E, cb: CobrowseHandler<E>): CobrowseGlobal;
  sessionId(): string | null;
  state(): CobrowseState;
  /** Loads the client now (it otherwise loads when a session starts or resumes). */
  load(): Promise<CobrowseGlobal>;
  /** Resolves once the API reflects the page's session: at once on a page view without one,
   * after the client loaded when a session resumes. */
  ready: Promise<CobrowseGlobal>;
  /** The server the loader found. */
  serverUrl: string;
}

declare global {
  interface Window {
    Cobrowse?: CobrowseGlobal;
    cobrowseConfig?: CobrowseConfig;
  }
  interface WindowEventMap {
    'cobrowse:ready': CustomEvent<CobrowseGlobal>;
  }
}
