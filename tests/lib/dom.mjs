// DOM comparison between the customer's page and the agent's replica.
//
// Both sides are reduced to the same normal form in the browser, then diffed here. The normal form
// is what the product promises to reproduce, minus what it promises NOT to reproduce:
// - our own UI (elements with `data-cobrowse-ui` on the customer side, and elements the renderer
//   adds to the replica document, which carry `data-cobrowse-injected`), and every `data-cobrowse-*`
//   attribute (e.g. node ids a renderer may keep);
// - `<script>` and `<noscript>` elements, comments, whitespace-only text (the replica is script-free);
// - inline event handler attributes, `javascript:` URLs and other schemes than http(s), mailto:,
//   tel:, data:, blob:, `srcdoc` (stripped by the safe renderer);
// - URL attributes (and `srcset` candidates) are compared resolved against the customer page's
//   base URL (`<base href>` included); a frame's `src`/`sandbox` are skipped (its document is
//   rebuilt from the capture); a replica `<link href>` through the CSS proxy counts as its `url`,
//   one showing the customer's rules as its `data-cobrowse-href`; a link's `integrity` is skipped;
// - an `<img src="blob:…">` matches a replica `data:image/…` src (the inlined copy);
// - `autofocus` (the replica must never take focus) is left out;
// - form state is compared by live properties (value, checked, indeterminate, selected), and a password's value
//   only by its length: the replica must show a placeholder, never the real value (checked too).
// By default only `<body>` is compared (plus `document.title`): how styles reach the replica is
// the renderer's business, and screenshots check the result.

/**
 * Runs in the browser (passed to `page.evaluate`). `which` is 'customer' (the page's own document)
 * or 'replica' (the agent page's `#cobrowse-replica` iframe document). Returns the normal form, or
 * `{ error }` when there is nothing to read yet.
 */
export function normaliseInBrowser({ which, baseUrl }) {
  let doc = document;
  if (which === 'replica') {
    const frame = document.getElementById('cobrowse-replica');
    if (!frame) return { error: 'no #cobrowse-replica on the agent page' };
    doc = frame.contentDocument;
    if (!doc) return { error: '#cobrowse-replica has no readable document (sandbox lacks allow-same-origin?)' };
  }
  if (!doc.body) return { error: `${which} document has no <body> yet` };
  const base = baseUrl || doc.baseURI;
  const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'poster', 'xlink:href', 'background', 'cite']);
  const SKIP_TAGS = new Set(['script', 'noscript']);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MATH_NS = 'http://www.w3.org/1998/Math/MathML';
  const passwords = [];

  const isOurs = (el) => el.hasAttribute('data-cobrowse-ui') || el.hasAttribute('data-cobrowse-injected');
  const tagOf = (el) => {
    const name = el.localName;
    if (el.namespaceURI === SVG_NS) return `svg:${name}`;
    if (el.namespaceURI === MATH_NS) return `math:${name}`;
    return name;
  };
  const attrsOf = (el) => {
    const out = [];
    const isPassword = el.localName === 'input' && (el.getAttribute('type') || '').toLowerCase() === 'password';
    for (const a of el.attributes) {
      const name = a.name;
      let value = a.value;
      if (name.startsWith('data-cobrowse')) continue;
      if (/^on/i.test(name)) continue;
      // Never rendered by the replica (sanitize/): a script-free copy must not take focus.
      if (name === 'srcdoc' || name === 'nonce' || name === 'autofocus') continue;
      // A frame's document is rebuilt from the capture, not loaded: the replica's frame has no
      // `src` and the renderer's own sandbox (fidelity suite).
      if ((el.localName === 'iframe' || el.localName === 'frame') && (name === 'src' || name === 'sandbox')) continue;
      if (name === 'srcset' || name === 'imagesrcset') {
        // Candidate URLs resolved like other URL attributes: "a.png 1x, b.png 2x".
        value = value.split(',').map((c) => {
          const [u, ...d] = c.trim().split(/\s+/);
          try { return [new URL(u, base).href, ...d].join(' '); } catch { return c.trim(); }
        }).join(', ');
      }
      if (isPassword && name === 'value') continue;
      // A link's `integrity` holds for the URL's bytes; the replica leaves it out while it shows
      // the rules the customer sent.
      if (el.localName === 'link' && name === 'integrity') continue;
      if (which === 'replica' && el.localName === 'link' && name === 'href' && el.hasAttribute('data-cobrowse-href')) {
        // A sheet shown as the rules the customer sent (a `data:` URL) stands for its URL.
        value = el.getAttribute('data-cobrowse-href');
      } else if (which === 'replica' && el.localName === 'link' && name === 'href') {
        // A sheet the replica loads through the server's CSS proxy stands for its
        // original URL, the `url` parameter.
        try {
          const u = new URL(value, location.href);
          if (u.origin === location.origin && u.pathname.endsWith('/cobrowse/css-proxy')) {
            value = u.searchParams.get('url') ?? value;
          }
        } catch {
          // keep as is
        }
      }
      if (URL_ATTRS.has(name)) {
        if (/^\s*javascript:/i.test(value)) continue;
        // Other schemes (irc:, ftp:, app links) are never rendered by the replica (sanitize/).
        const scheme = /^\s*([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
        if (scheme && !['http', 'https', 'mailto', 'tel', 'data', 'blob'].includes(scheme)) continue;
        try {
          value = new URL(value, base).href;
        } catch {
          // keep as is
        }
      }
      out.push([name, value]);
    }
    out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    return out;
  };
  const propsOf = (el) => {
    const tag = el.localName;
    if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') return undefined;
    if (tag === 'input') {
      const type = (el.type || 'text').toLowerCase();
      if (type === 'password') {
        passwords.push(el.value);
        return { passwordLength: el.value.length };
      }
      if (type === 'checkbox') return { checked: el.checked, indeterminate: el.indeterminate };
      if (type === 'radio') return { checked: el.checked };
      if (type === 'file') return undefined;
      return { value: el.value };
    }
    if (tag === 'textarea') return { value: el.value };
    if (tag === 'select') return { value: el.value, selectedIndex: el.selectedIndex };
    if (tag === 'option') return { selected: el.selected };
    return undefined;
  };
  const walk = (node) => {
    const el = node;
    const out = { tag: tagOf(el), attrs: attrsOf(el), children: [] };
    const props = propsOf(el);
    if (props) out.props = props;
    // `<template>` content lives in a separate fragment.
    const kids = el.localName === 'template' && el.content ? el.content.childNodes : el.childNodes;
    let text = null;
    const flush = () => {
      if (text !== null && text.trim() !== '') out.children.push({ text });
      text = null;
    };
    for (const child of kids) {
      if (child.nodeType === 3 /* text */ || child.nodeType === 4 /* cdata */) {
        text = (text ?? '') + child.data;
        continue;
      }
      if (child.nodeType !== 1) continue; // comments, processing instructions
      if (SKIP_TAGS.has(child.localName) || isOurs(child)) continue;
      flush();
      out.children.push(walk(child));
    }
    flush();
    return out;
  };
  return { title: doc.title, url: doc.URL, body: walk(doc.body), passwords };
}

function describe(node) {
  if (!node) return 'nothing';
  if ('text' in node) return `text ${JSON.stringify(node.text.length > 60 ? `${node.text.slice(0, 60)}…` : node.text)}`;
  return `<${node.tag}>`;
}

/** Differences between two normal-form trees, as readable lines (at most `limit`). */
export function diffTrees(a, b, limit = 20) {
  const diffs = [];
  const add = (line) => {
    if (diffs.length < limit) diffs.push(line);
  };
  const rec = (x, y, where) => {
    if (diffs.length >= limit) return;
    if ('text' in x || 'text' in y) {
      if (!('text' in x && 'text' in y) || x.text !== y.text) {
        add(`${where}: customer has ${describe(x)}, replica has ${describe(y)}`);
      }
      return;
    }
    if (x.tag !== y.tag) {
      add(`${where}: customer has <${x.tag}>, replica has <${y.tag}>`);
      return;
    }
    const ax = new Map(x.attrs);
    const ay = new Map(y.attrs);
    // A `blob:` image exists only in the customer's page; the replica shows it inlined as a
    // `data:` image, which stands for it. A replica without it is still a difference.
    const inlined = (k, v, w) => k === 'src' && x.tag === 'img' && v.startsWith('blob:')
      && typeof w === 'string' && w.startsWith('data:image/');
    for (const [k, v] of ax) {
      if (!ay.has(k)) add(`${where}: replica lacks attribute ${k}=${JSON.stringify(v)}`);
      else if (inlined(k, v, ay.get(k))) continue;
      else if (ay.get(k) !== v) add(`${where}: attribute ${k}: customer ${JSON.stringify(v)}, replica ${JSON.stringify(ay.get(k))}`);
    }
    for (const [k, v] of ay) {
      if (!ax.has(k)) add(`${where}: replica has extra attribute ${k}=${JSON.stringify(v)}`);
    }
    const px = JSON.stringify(x.props ?? null);
    const py = JSON.stringify(y.props ?? null);
    if (px !== py) add(`${where}: form state: customer ${px}, replica ${py}`);
    const n = Math.max(x.children.length, y.children.length);
    let elementIndex = 0;
    for (let i = 0; i < n; i++) {
      const cx = x.children[i];
      const cy = y.children[i];
      const label = cx && 'tag' in cx ? `${cx.tag}[${elementIndex++}]` : `#${i}`;
      if (!cx || !cy) {
        add(`${where} > ${label}: customer has ${describe(cx)}, replica has ${describe(cy)} ` +
          `(children: customer ${x.children.length}, replica ${y.children.length})`);
        return;
      }
      rec(cx, cy, `${where} > ${label}`);
    }
  };
  rec(a, b, 'body');
  return diffs;
}

/**
 * Compares the customer's page with the agent's replica once, now.
 * Returns `{ equal, diffs, customer, replica }`; `diffs` are readable lines.
 */
export async function compareDom(customerPage, agentPage) {
  // The customer's effective base (a `<base href>` counts), which the replica copies.
  const baseUrl = await customerPage.evaluate(() => document.baseURI).catch(() => customerPage.url());
  const customer = await customerPage.evaluate(normaliseInBrowser, { which: 'customer', baseUrl });
  const replica = await agentPage.evaluate(normaliseInBrowser, { which: 'replica', baseUrl });
  if (customer.error) return { equal: false, diffs: [customer.error], customer, replica };
  if (replica.error) return { equal: false, diffs: [replica.error], customer, replica };
  const diffs = [];
  if (customer.title !== replica.title) {
    diffs.push(`title: customer ${JSON.stringify(customer.title)}, replica ${JSON.stringify(replica.title)}`);
  }
  diffs.push(...diffTrees(customer.body, replica.body));
  // The real password must never reach the agent, not even as a value the DOM form hides.
  customer.passwords.forEach((real, i) => {
    if (real !== '' && replica.passwords[i] === real) {
      diffs.push(`password field ${i}: the replica shows the customer's real password`);
    }
  });
  return { equal: diffs.length === 0, diffs, customer, replica };
}
