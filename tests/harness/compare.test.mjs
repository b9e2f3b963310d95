// Tests of the harness itself: compareDom must see real differences and ignore what the product
// promises not to reproduce. Runs in real Chromium with hand-made "customer" and "replica" pages,
// no server, so a harness bug cannot hide behind a product bug (or the other way round).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import { compareDom } from '../lib/dom.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const PAGE = `<!doctype html><html><head><title>Shop</title></head><body>
  <h1 class="big">Hello <b>world</b></h1>
  <a href="/cobrowse/demo/form.html">form</a>
  <ul><li>one</li><li>two</li></ul>
  <input id="t" value="typed"><input id="p" type="password">
  <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="3"/></svg>
</body></html>`;

// The customer page is served from a data-free origin (about:blank + setContent); the replica is
// an iframe filled through DOM calls, as the renderer does, so it never runs a script.
async function setUp(customerHtml, replicaHtml, { password = '', replicaPassword = '' } = {}) {
  await browser.customer.setContent(customerHtml);
  await browser.customer.evaluate((pw) => { document.getElementById('p').value = pw; }, password);
  await browser.agent.setContent('<iframe id="cobrowse-replica" sandbox="allow-same-origin"></iframe>');
  await browser.agent.evaluate(({ html, pw }) => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    const parsed = new DOMParser().parseFromString(html, 'text/html');
    doc.replaceChild(doc.importNode(parsed.documentElement, true), doc.documentElement);
    const p = doc.getElementById('p');
    if (p) p.value = pw;
  }, { html: replicaHtml, pw: replicaPassword });
}

test('identical pages compare equal', async () => {
  await setUp(PAGE, PAGE);
  const r = await compareDom(browser.customer, browser.agent);
  assert.deepEqual(r.diffs, []);
  assert.equal(r.equal, true);
});

test('our UI, scripts, comments, whitespace and event handlers are ignored', async () => {
  const customer = PAGE.replace('<body>', '<body><div data-cobrowse-ui="start">Co-browse</div><script>var x=1</script><!-- c -->\n\n')
    .replace('<h1 class="big">', '<h1 class="big" onclick="alert(1)" data-cobrowse-id="4">');
  const replica = PAGE.replace('</body>', '<div data-cobrowse-injected=""></div></body>');
  await setUp(customer, replica);
  const r = await compareDom(browser.customer, browser.agent);
  assert.deepEqual(r.diffs, []);
});

test('a changed text is reported with its place', async () => {
  await setUp(PAGE, PAGE.replace('<li>two</li>', '<li>TWO</li>'));
  const r = await compareDom(browser.customer, browser.agent);
  assert.equal(r.equal, false);
  assert.match(r.diffs.join('\n'), /ul\[\d+\] > li\[1\] > #0: customer has text "two", replica has text "TWO"/);
});

test('attribute differences and missing children are reported', async () => {
  const replica = PAGE.replace('class="big"', 'class="small"').replace('<li>two</li>', '');
  await setUp(PAGE, replica);
  const r = await compareDom(browser.customer, browser.agent);
  const text = r.diffs.join('\n');
  assert.match(text, /attribute class: customer "big", replica "small"/);
  assert.match(text, /customer has <li>, replica has nothing/);
});

test('an SVG element rebuilt in the HTML namespace is reported', async () => {
  await setUp(PAGE, PAGE);
  await browser.agent.evaluate(() => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    const svg = doc.querySelector('svg');
    const wrong = doc.createElement('circle'); // HTML namespace: would not render
    wrong.setAttribute('r', '3');
    svg.replaceChild(wrong, svg.firstElementChild);
  });
  const r = await compareDom(browser.customer, browser.agent);
  assert.match(r.diffs.join('\n'), /customer has <svg:circle>, replica has <circle>/);
});

test('form values are compared by live property, passwords only by length', async () => {
  await setUp(PAGE, PAGE, { password: 'secret', replicaPassword: '••••••' });
  assert.deepEqual((await compareDom(browser.customer, browser.agent)).diffs, []);

  await setUp(PAGE, PAGE, { password: 'secret', replicaPassword: 'sec' });
  assert.match((await compareDom(browser.customer, browser.agent)).diffs.join('\n'), /passwordLength/);

  await browser.customer.evaluate(() => { document.getElementById('t').value = 'changed'; });
  assert.match((await compareDom(browser.customer, browser.agent)).diffs.join('\n'), /"value":"changed"/);
});

test('the real password in the replica is reported as a leak', async () => {
  await setUp(PAGE, PAGE, { password: 'secret', replicaPassword: 'secret' });
  const r = await compareDom(browser.customer, browser.agent);
  assert.match(r.diffs.join('\n'), /shows the customer's real password/);
});

test('a blob: image matches its inlined data: copy, not a missing or other src', async () => {
  const blob = PAGE.replace('</ul>', '</ul><img id="i" src="blob:http://127.0.0.1:1/0b7c">');
  const data = PAGE.replace('</ul>', '</ul><img id="i" src="data:image/png;base64,iVBORw0KGgo=">');
  await setUp(blob, data);
  assert.deepEqual((await compareDom(browser.customer, browser.agent)).diffs, []);
  await setUp(blob, PAGE.replace('</ul>', '</ul><img id="i">'));
  assert.match((await compareDom(browser.customer, browser.agent)).diffs.join('\n'), /replica lacks attribute src="blob:/);
  await setUp(blob, PAGE.replace('</ul>', '</ul><img id="i" src="https://shop.example/x.png">'));
  assert.match((await compareDom(browser.customer, browser.agent)).diffs.join('\n'), /attribute src: customer "blob:/);
});

test('a missing replica frame is reported, not thrown', async () => {
  await browser.customer.setContent(PAGE);
  await browser.agent.setContent('<p>no frame</p>');
  const r = await compareDom(browser.customer, browser.agent);
  assert.equal(r.equal, false);
  assert.match(r.diffs[0], /no #cobrowse-replica/);
});
