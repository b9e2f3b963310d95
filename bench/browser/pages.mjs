// The page corpus and the scripted mutation workload, shared by every variant (no recorder, ours,
// rrweb) so they measure the same DOM work.

/** The loader snippet of ARCHITECTURE.md, pointing at the page's own origin (the bench server). */
const SNIPPET = `<script>
  window.cobrowseConfig = {};
  (function (d, s) {
    s = d.createElement('script'); s.async = true;
    s.src = location.origin + '/cobrowse/js/cobrowse.js';
    s.setAttribute('data-server-url', location.origin);
    d.head.appendChild(s);
  })(document);
</script>`;

/**
 * A stylesheet of `count` rules shaped like a CSS framework's: class rules with a few
 * declarations, every tenth with a `:hover` or `:focus` twin, media queries for widths every
 * 500 and for `prefers-color-scheme: dark` every 200. Real sites ship thousands; the generated
 * pages' own sheet has four.
 */
export function frameworkSheet(count) {
  const rules = [];
  for (let i = 0; i < count; i++) {
    rules.push(`.u${i} > .k${i % 13}{color:rgb(${i % 255},40,80);margin:${i % 7}px ${i % 5}px;line-height:1.${i % 9}}`);
    if (i % 10 === 0) rules.push(`.u${i}:${i % 20 === 0 ? 'hover' : 'focus'}{color:#06c;text-decoration:underline}`);
    if (i % 200 === 0) rules.push(`@media (prefers-color-scheme: dark){.u${i}{color:#eee;background:#111}}`);
    if (i % 500 === 0) rules.push(`@media (min-width: ${600 + i}px){.u${i}{padding:4px}.u${i}:hover{outline:1px solid}}`);
  }
  return rules.join('\n');
}

/**
 * A generated page of about `nodes` DOM nodes (elements + text): rows of
 * `<div class><span>text</span><a href>text</a></div>` (5 nodes each) under sections, with a small
 * stylesheet, like a long product or log list; `rules` adds a framework-sized sheet
 * ([`frameworkSheet`]).
 */
export function generatedPage(nodes, head = SNIPPET, rules = 0) {
  const rows = Math.max(1, Math.round(nodes / 5));
  const parts = [];
  for (let i = 0; i < rows; i++) {
    if (i % 100 === 0) parts.push(i === 0 ? '<section class="s">' : '</section><section class="s">');
    parts.push(`<div class="row r${i % 7}" data-i="${i}"><span class="name">Item ${i} of the list</span><a href="/p/${i}">details</a></div>`);
  }
  parts.push('</section>');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Generated ${nodes} nodes</title>
<style>.row{display:flex;gap:8px;padding:2px 4px}.r0{background:#f4f4f4}.name{flex:1}.sel{outline:1px solid #06c}</style>
${rules ? `<style>${frameworkSheet(rules)}</style>` : ''}${head}</head><body><h1>Generated page, ${nodes} nodes</h1>${parts.join('')}</body></html>`;
}

/**
 * The page-view variants of a generated page (`/cobrowse/bench/pv-<variant>.html`): the same
 * 1,000-node page with nothing, with our snippet, with rrweb's record bundle (an async script,
 * like our loader) loaded, and with that bundle loaded and `rrweb.record()` started as soon as it
 * is (events kept in an array, nothing sent). `rrwebSrc` is the bundle's URL path.
 */
export function pageViewPages(nodes, rrwebSrc) {
  const rr = (start) => `<script>
  window.__pv = { loaded: false, events: 0 };
  (function (d, s) {
    s = d.createElement('script'); s.async = true; s.src = ${JSON.stringify(rrwebSrc)};
    s.onload = function () {
      window.__pv.loaded = true;
      ${start ? 'window.__pv.stop = window.rrwebRecord.record({ emit: function (e) { (window.__pv.kept = window.__pv.kept || []).push(e); window.__pv.events++; } });' : ''}
    };
    d.head.appendChild(s);
  })(document);
</script>`;
  return {
    none: generatedPage(nodes, ''),
    ours: generatedPage(nodes),
    rrweb: generatedPage(nodes, rr(false)),
    'rrweb-record': generatedPage(nodes, rr(true)),
  };
}

/** A page for the latency runs: 1,000 spans to stamp, and room for the pointer. */
export function latencyPage() {
  const spans = [];
  for (let i = 0; i < 1000; i++) spans.push(`<span id="l${i}" data-t="0">${i}</span> `);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Latency</title>${SNIPPET}</head>
<body style="margin:0;min-height:100vh"><p id="lat">${spans.join('')}</p></body></html>`;
}

/** A blank page for rrweb's Replayer. */
export function blankPage() {
  return '<!doctype html><html><head><meta charset="utf-8"><title>replay</title></head><body><div id="root"></div></body></html>';
}

/**
 * The corpus: demo/fidelity pages served by the server itself, and generated pages routed under
 * `/cobrowse/bench/` on the same origin. `path` is relative to the server URL.
 */
export const CORPUS = [
  { name: 'demo shop', path: '/cobrowse/demo/?still=1' },
  { name: 'demo form', path: '/cobrowse/demo/form.html' },
  { name: 'demo long', path: '/cobrowse/demo/long.html' },
  { name: 'demo svg', path: '/cobrowse/demo/svg.html' },
  { name: 'demo burst', path: '/cobrowse/demo/burst.html' },
  { name: 'generated 1k', path: '/cobrowse/bench/gen-1000.html', nodes: 1000 },
  { name: 'generated 1k + 4k CSS rules', path: '/cobrowse/bench/gen-1000-css.html', nodes: 1000, rules: 4000 },
  { name: 'generated 10k', path: '/cobrowse/bench/gen-10000.html', nodes: 10000 },
  { name: 'generated 50k', path: '/cobrowse/bench/gen-50000.html', nodes: 50000 },
];

/**
 * Runs in the page before recording starts: adds the workload's own area (a 100-row table, a
 * text input, a styled box) at the end of `<body>`, so it is part of the snapshot on every page.
 */
export function setupWorkArea() {
  const work = document.createElement('div');
  work.id = 'bench-work';
  const table = document.createElement('table');
  const tbody = document.createElement('tbody');
  for (let r = 0; r < 100; r++) {
    const tr = document.createElement('tr');
    tr.dataset.row = String(r);
    for (let c = 0; c < 5; c++) {
      const td = document.createElement('td');
      td.textContent = `r${r}c${c}`;
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  const input = document.createElement('input');
  input.id = 'bench-input';
  input.type = 'text';
  const box = document.createElement('div');
  box.id = 'bench-box';
  box.style.width = '100px';
  box.style.height = '20px';
  box.style.background = '#ccc';
  work.append(table, input, box);
  document.body.appendChild(work);
  return document.querySelectorAll('*').length;
}

/**
 * Runs in the page: 60 steps, each in its own task (so each is one MutationObserver callback):
 * row inserts, removes, reorders, text edits, attribute and class flips, style changes and typing
 * into the input, in rotation with a fixed pseudo-random sequence. Ends by setting
 * `data-bench-end=<nonce>` on the work area, which recorders' output is watched for.
 * Returns the mutation count (approximate DOM operations).
 */
export async function runWorkload(nonce) {
  let seed = 12345;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const tbody = document.querySelector('#bench-work tbody');
  const input = document.getElementById('bench-input');
  const box = document.getElementById('bench-box');
  const yieldTask = () => new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => r();
    ch.port2.postMessage(0);
  });
  let ops = 0;
  let next = 1000;
  for (let step = 0; step < 60; step++) {
    const rows = tbody.children;
    switch (step % 6) {
      case 0: // insert 5 rows
        for (let k = 0; k < 5; k++) {
          const tr = document.createElement('tr');
          tr.dataset.row = String(next++);
          for (let c = 0; c < 5; c++) {
            const td = document.createElement('td');
            td.textContent = `new ${next} ${c}`;
            tr.appendChild(td);
          }
          tbody.insertBefore(tr, rows[rnd(rows.length)] || null);
          ops++;
        }
        break;
      case 1: // remove 5 rows
        for (let k = 0; k < 5 && rows.length > 10; k++) {
          rows[rnd(rows.length)].remove();
          ops++;
        }
        break;
      case 2: // reorder: move 5 rows to the top
        for (let k = 0; k < 5; k++) {
          tbody.insertBefore(rows[rnd(rows.length)], tbody.firstChild);
          ops++;
        }
        break;
      case 3: // text edits
        for (let k = 0; k < 20; k++) {
          const tr = rows[rnd(rows.length)];
          tr.children[rnd(5)].firstChild.data = `edit ${step}.${k}`;
          ops++;
        }
        break;
      case 4: // attribute and class flips
        for (let k = 0; k < 20; k++) {
          const tr = rows[rnd(rows.length)];
          tr.classList.toggle('sel');
          tr.setAttribute('data-state', k % 2 ? 'open' : 'closed');
          ops += 2;
        }
        break;
      default: // style changes and typing
        for (let k = 0; k < 20; k++) {
          const td = rows[rnd(rows.length)].children[rnd(5)];
          td.style.backgroundColor = `rgb(${rnd(255)},${rnd(255)},200)`;
          ops++;
        }
        box.style.width = `${100 + step}px`;
        for (let k = 0; k < 5; k++) {
          input.focus();
          input.value += String.fromCharCode(97 + rnd(26));
          input.dispatchEvent(new InputEvent('input', { bubbles: true, data: 'x', inputType: 'insertText' }));
          ops++;
        }
    }
    await yieldTask();
  }
  // From here on the instrumentation looks for the nonce in sent frames (not during the steps,
  // where scanning every frame would add measurement cost to ours).
  if (window.__bench) window.__bench.scan = true;
  document.getElementById('bench-work').setAttribute('data-bench-end', nonce);
  return ops + 1;
}
