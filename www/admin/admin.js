// The supervisor console (www/admin/index.html): the cluster's live sessions (refreshed every
// few seconds), ending one, joining one as an observer (the agent page with `observe=1`), and the
// history search with its pages. Everything comes from the supervisor REST endpoints
// (GET /cobrowse/rest/supervisor/sessions and …/history) and the ordinary stop
// (POST …/live/sessions/{token}/stop), with the supervisor credential as `Authorization: Bearer`.
//
// The credential arrives typed into the form, or in the fragment (`#auth=…`, taken out of the
// address bar at once, as the agent page does), and is kept in sessionStorage for this tab only.
// Customer data (page URLs, agent names) is only ever written as text, never as markup or links.

const REST = new URL('../rest/', import.meta.url);
const AGENT_PAGE = new URL('../slave.html', import.meta.url);
const REPLAY_PAGE = new URL('../replay.html', import.meta.url);
const STORAGE_KEY = 'cobrowse-supervisor-auth';
const REFRESH_MS = 5000;

const $ = (id) => document.getElementById(id);
let texts = {};
let credential = null;
let refreshTimer = null;
// History paging: the cursor of each page shown so far (null for the first).
let cursors = [null];
let pageIndex = 0;
let nextCursor = null;

/** The text for `key`, `{name}` placeholders filled from `vars`. */
function t(key, vars = {}) {
  const s = texts[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/** Loads the locale asked for (`?lang=`, else the browser's), English when there is none. */
async function loadTexts() {
  const asked = (new URLSearchParams(location.search).get('lang') || navigator.language || 'en').toLowerCase();
  for (const name of [asked, asked.split('-')[0], 'en']) {
    if (!/^[a-z0-9-]{1,35}$/.test(name)) continue;
    try {
      const r = await fetch(new URL(`../locales/admin/${name}.json`, import.meta.url));
      if (r.ok) {
        texts = await r.json();
        document.documentElement.lang = name;
        break;
      }
    } catch { /* the next one */ }
  }
  for (const el of document.querySelectorAll('[data-i18n]')) {
    if (texts[el.dataset.i18n]) el.textContent = texts[el.dataset.i18n];
  }
  for (const el of document.querySelectorAll('[data-i18n-label]')) {
    if (texts[el.dataset.i18nLabel]) el.setAttribute('aria-label', texts[el.dataset.i18nLabel]);
  }
}

function say(text, error = null) {
  const status = $('admin-status');
  status.textContent = text;
  if (error) status.dataset.error = error;
  else delete status.dataset.error;
}

/** A REST call with the credential; resolves to the JSON answer, throws `{status, code}`. */
async function call(method, path) {
  const r = await fetch(new URL(path, REST), {
    method,
    headers: { Authorization: `Bearer ${credential}` },
  });
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const e = new Error(body?.error?.message || `HTTP ${r.status}`);
    e.status = r.status;
    e.code = body?.error?.code || 'failed';
    throw e;
  }
  return body;
}

function duration(ms) {
  if (ms == null || ms < 0) return '';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  row.append(td);
  return td;
}

function reasonText(code) {
  return code ? t(`reason_${code}`) : '';
}

/** Refusals end the console's view: a wrong credential, or one without the role. */
function refused(e) {
  if (e.status === 401 || e.status === 403) {
    stopRefreshing();
    $('admin-main').hidden = true;
    sessionStorage.removeItem(STORAGE_KEY);
    say(e.status === 403 ? t('forbidden') : t('unauthorized'), e.code);
    return true;
  }
  return false;
}

function liveRow(s, now) {
  const tr = document.createElement('tr');
  tr.dataset.token = s.token;
  tr.dataset.state = s.state;
  cell(tr, s.token);
  cell(tr, t(`state_${s.state}`));
  const named = s.agents.join(', ');
  const unnamed = s.agentCount - s.agents.length;
  cell(tr, unnamed > 0 ? `${named}${named ? ', ' : ''}${t('unnamedAgents', { n: unnamed })}` : named)
    .className = 'agents';
  cell(tr, duration(now - s.createdAt));
  cell(tr, s.pageUrl, 'url');
  cell(tr, s.node);
  const actions = cell(tr, '', 'actions');
  const end = document.createElement('button');
  end.type = 'button';
  end.className = 'end';
  end.textContent = t('end');
  end.setAttribute('aria-label', t('endLabel', { token: s.token }));
  // Two steps: a stray click does not end a customer's session.
  end.addEventListener('click', async () => {
    if (end.dataset.confirm !== 'yes') {
      end.dataset.confirm = 'yes';
      end.textContent = t('confirmEnd');
      end.setAttribute('aria-label', t('confirmEndLabel', { token: s.token }));
      return;
    }
    end.disabled = true;
    try {
      await call('POST', `live/sessions/${s.token}/stop`);
      say(t('ended', { token: s.token }));
    } catch (e) {
      if (!refused(e)) say(t('endFailed', { token: s.token, code: e.code }), e.code);
    }
    refreshLive();
  });
  const observe = document.createElement('a');
  observe.className = 'observe';
  observe.href = `${AGENT_PAGE.href}#sid=${s.token}&observe=1`;
  observe.target = '_blank';
  observe.rel = 'noopener';
  observe.textContent = t('observe');
  observe.setAttribute('aria-label', t('observeLabel', { token: s.token }));
  // The agent page takes its credential from the fragment; it goes there only on a click.
  observe.addEventListener('click', (ev) => {
    ev.preventDefault();
    window.open(`${observe.href}&auth=${encodeURIComponent(credential)}`, '_blank', 'noopener');
  });
  actions.append(end, observe);
  return tr;
}

async function refreshLive() {
  clearTimeout(refreshTimer);
  try {
    const list = await call('GET', 'supervisor/sessions');
    const body = $('admin-live').tBodies[0];
    // Keep a half-confirmed end across a refresh.
    const confirming = new Set([...body.querySelectorAll('button.end[data-confirm="yes"]')]
      .map((b) => b.closest('tr').dataset.token));
    body.replaceChildren(...list.sessions.map((s) => {
      const row = liveRow(s, list.now);
      if (confirming.has(s.token)) row.querySelector('button.end').click();
      return row;
    }));
    $('admin-live-empty').hidden = list.sessions.length > 0;
    $('admin-live-updated').textContent = t('updated', { time: new Date(list.now).toLocaleTimeString() });
    $('admin-main').hidden = false;
  } catch (e) {
    if (refused(e)) return;
    say(t('loadFailed', { code: e.code }), e.code);
  }
  refreshTimer = setTimeout(refreshLive, REFRESH_MS);
}

function stopRefreshing() {
  clearTimeout(refreshTimer);
  refreshTimer = null;
}

/** The search's query string for the page whose cursor is `cursor`. */
function searchQuery(cursor) {
  const q = new URLSearchParams();
  for (const [id, name] of [['admin-from', 'from'], ['admin-to', 'to']]) {
    const v = $(id).value;
    if (v) {
      const ms = new Date(v).getTime();
      if (Number.isFinite(ms)) q.set(name, String(ms));
    }
  }
  const agent = $('admin-agent').value.trim();
  if (agent) q.set('agent', agent);
  const reason = $('admin-reason').value;
  if (reason) q.set('endReason', reason);
  const limit = Number($('admin-limit').value);
  if (Number.isInteger(limit) && limit >= 1 && limit <= 100) q.set('limit', String(limit));
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

function historyRow(h) {
  const tr = document.createElement('tr');
  tr.dataset.historyId = h.historyId;
  tr.dataset.token = h.token;
  cell(tr, h.token);
  cell(tr, new Date(h.createdAt).toLocaleString());
  cell(tr, h.endedAt ? duration(h.endedAt - h.createdAt) : t('stillLive'));
  cell(tr, h.agentId);
  cell(tr, reasonText(h.endReason)).dataset.reason = h.endReason || '';
  const last = h.pages[h.pages.length - 1];
  cell(tr, last ? t('pagesCell', { n: h.pages.length, url: last.url }) : '0', 'url');
  // The audit recording, where the site records sessions (the replay page says when there is
  // none). Like Observe, the credential joins the fragment only on a click.
  const replay = document.createElement('a');
  replay.className = 'replay';
  replay.href = `${REPLAY_PAGE.href}#id=${encodeURIComponent(h.historyId)}`;
  replay.target = '_blank';
  replay.rel = 'noopener';
  replay.textContent = t('replay');
  replay.setAttribute('aria-label', t('replayLabel', { token: h.token }));
  replay.addEventListener('click', (ev) => {
    ev.preventDefault();
    window.open(`${replay.href}&auth=${encodeURIComponent(credential)}`, '_blank', 'noopener');
  });
  cell(tr, '').append(replay);
  return tr;
}

async function showHistory() {
  try {
    const page = await call('GET', `supervisor/history?${searchQuery(cursors[pageIndex])}`);
    $('admin-history').tBodies[0].replaceChildren(...page.sessions.map(historyRow));
    $('admin-history-empty').hidden = page.sessions.length > 0;
    nextCursor = page.nextCursor;
    $('admin-next').disabled = !nextCursor;
    $('admin-prev').disabled = pageIndex === 0;
    $('admin-page').textContent = t('pageN', { n: pageIndex + 1 });
  } catch (e) {
    if (!refused(e)) say(t('searchFailed', { code: e.code }), e.code);
  }
}

async function openConsole(cred) {
  credential = cred;
  say(t('opening'));
  sessionStorage.setItem(STORAGE_KEY, cred);
  await refreshLive();
  if ($('admin-main').hidden) return;
  say(t('opened'));
  $('admin-signout').hidden = false;
  cursors = [null];
  pageIndex = 0;
  await showHistory();
}

$('admin-login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const cred = $('admin-credential').value.trim();
  $('admin-credential').value = '';
  if (cred) openConsole(cred);
});
$('admin-signout').addEventListener('click', () => {
  stopRefreshing();
  sessionStorage.removeItem(STORAGE_KEY);
  credential = null;
  $('admin-main').hidden = true;
  $('admin-signout').hidden = true;
  say(t('signedOut'));
});
$('admin-refresh').addEventListener('click', () => refreshLive());
$('admin-search').addEventListener('submit', (ev) => {
  ev.preventDefault();
  cursors = [null];
  pageIndex = 0;
  showHistory();
});
$('admin-next').addEventListener('click', () => {
  if (!nextCursor) return;
  cursors = cursors.slice(0, pageIndex + 1);
  cursors.push(nextCursor);
  pageIndex += 1;
  showHistory();
});
$('admin-prev').addEventListener('click', () => {
  if (pageIndex === 0) return;
  pageIndex -= 1;
  showHistory();
});

await loadTexts();
// A credential in the fragment is taken and removed from the address bar at once.
const fragment = new URLSearchParams(location.hash.slice(1));
const fromFragment = fragment.get('auth');
if (fromFragment) {
  fragment.delete('auth');
  const rest = fragment.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
}
document.documentElement.dataset.adminReady = 'yes';
const kept = fromFragment || sessionStorage.getItem(STORAGE_KEY);
if (kept) openConsole(kept.trim());
