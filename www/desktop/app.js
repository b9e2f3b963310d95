// The sample agent desktop (www/desktop/index.html): a 9-digit number pasted in, the agent page
// embedded with it, and the session's events twice: as the agent page posts them (postMessage)
// and from the session's event stream the desktop follows itself — the same JSON, which webhooks
// get too. It uses the npm package's desktop client (cobrowse-client/desktop, served by the
// server as js/desktop.js): the stream (a ticket, then EventSource) and the REST stop.
//
// ?server=<Cobrowse server URL> (default: this page's own origin, when the server serves it).

const params = new URLSearchParams(location.search);
const server = (params.get('server') || location.origin).replace(/\/+$/, '');
const serverOrigin = new URL(server).origin;
const { createDesktopClient, onAgentPageEvents } = await import(`${server}/cobrowse/js/desktop.js`);

const $ = (id) => document.getElementById(id);
const frame = $('desktop-agent');
const list = $('desktop-events');
const status = $('desktop-status');
let token = null;
let client = null;

function show(list, e) {
  const li = document.createElement('li');
  li.dataset.type = e.type;
  li.dataset.token = e.token;
  const when = e.activatedAt ? ` activatedAt=${new Date(e.activatedAt).toISOString()}` : '';
  li.textContent = `${e.type} ${e.token} state=${e.state} agents=${e.agents} mode=${e.mode}`
    + `${e.agentId ? ` agent=${e.agentId}` : ''}${when}${e.endReason ? ` (${e.endReason})` : ''}`;
  list.append(li);
  if (e.type === 'ended') $('desktop-stop').disabled = true;
}

onAgentPageEvents(frame, serverOrigin, (e) => show(list, e));
let following = null;

$('desktop-start').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const sid = $('desktop-sid').value.replace(/[\s-]/g, '');
  if (!/^[0-9]{9}$/.test(sid)) {
    status.textContent = 'A session number has 9 digits.';
    return;
  }
  const credential = $('desktop-credential').value.trim();
  client = createDesktopClient({ serverUrl: server, credential });
  // Looked up first: a mistyped number or a wrong credential is said here, before anything opens.
  let session;
  try {
    session = await client.lookup(sid);
  } catch (e) {
    status.dataset.error = e.code || 'failed';
    status.textContent = `Session ${sid}: ${e.code || e.message}`;
    return;
  }
  delete status.dataset.error;
  token = sid;
  list.replaceChildren();
  $('desktop-stream').replaceChildren();
  status.textContent = `Session ${sid}: ${session.state}, created ${new Date(session.createdAt).toISOString()}`;
  const auth = credential ? `&auth=${encodeURIComponent(credential)}` : '';
  // The stream first; the agent page once it is open (its `state` arrived), so the desktop's
  // own stream hears the agent join too.
  if (following) following.close();
  let opened = false;
  following = client.sessionEvents(sid, (e) => {
    show($('desktop-stream'), e);
    if (!opened) {
      opened = true;
      frame.src = `${server}/cobrowse/slave.html#sid=${sid}&nosidinput=1${auth}`;
    }
  }, { onError: (e) => { status.textContent = `Event stream: ${e.code || e.message}`; } });
  $('desktop-stop').disabled = false;
});

$('desktop-stop').addEventListener('click', async () => {
  if (!client || !token) return;
  try {
    await client.stop(token);
  } catch (e) {
    status.textContent = `Stop failed: ${e.code || e.message}`;
  }
});
