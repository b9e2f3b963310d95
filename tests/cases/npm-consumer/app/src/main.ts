// A shop's own front-end code, as a developer writes it with the npm package: typed options and
// event handlers, the client started from the shop's code, the server URL from the page's query
// (a real shop would write its server's URL here).
import Cobrowse, {
  init, on, sessionId, start, state,
  type CobrowseError, type CobrowseOptions, type CobrowseState, type EndReason,
} from 'cobrowse-client';

interface Shop {
  events: string[];
  state(): CobrowseState;
  sessionId(): string | null;
  stop(): void;
  /** The shop's own "get help" link: starts a session from code. */
  start(): Promise<void>;
}

declare global {
  interface Window {
    shop: Shop;
  }
}

const params = new URLSearchParams(location.search);
const serverUrl = params.get('server');
if (serverUrl === null) throw new Error('open this page with ?server=<the Cobrowse server URL>');

const events: string[] = [];
on('session', ({ token }) => events.push(`session:${token}`));
on('state', (s: CobrowseState) => events.push(`state:${s}`));
on('agentJoined', () => events.push('agentJoined'));
on('ended', ({ reason }: { reason: EndReason }) => events.push(`ended:${reason}`));
on('error', (e: CobrowseError) => events.push(`error:${e.code}`));

const options: CobrowseOptions = {
  serverUrl,
  button: true,
  texts: { button: 'Get help' },
  restrictions: [{ selector: '#card', action: 'mask' }],
};
const clientUrl = params.get('client');
if (clientUrl !== null) options.clientUrl = clientUrl;
init(options).catch((e: CobrowseError) => events.push(`init-failed:${e.code}:${e.message}`));

// The shop's own UI.
const cart = document.getElementById('cart');
const add = document.getElementById('add');
if (!cart || !add) throw new Error('the page lacks #cart or #add');
add.addEventListener('click', () => {
  const item = document.createElement('li');
  item.textContent = `Lantern no. ${cart.children.length + 1}`;
  cart.append(item);
});

window.shop = {
  events,
  state,
  sessionId,
  stop: Cobrowse.stop,
  start: () => start().then(
    (token: string) => { events.push(`started:${token}`); },
    (e: CobrowseError) => { events.push(`start-failed:${e.code}:${e.message}`); },
  ),
};
