// The customer's DOM read in bulk, for `web/dom.rs`: one call from wasm per node instead of one
// per property. Each call into JS costs more than the DOM read it makes, and a snapshot of a
// large page makes tens of thousands. Pure reads: nothing here changes the page.

const SEP = '\u0000';
const XHTML = 'http://www.w3.org/1999/xhtml';
const ENCODER = new TextEncoder();

// An element's attributes, read by name: `SEP<name>SEP<value>` each, in the element's order,
// after `SEP<count>` when `counted`. By name, because reading `attributes[i]` makes the browser
// create (and keep, for the element's life) an `Attr` node per attribute: time on a large page,
// and memory the page never asked for. `null` when a value holds a NUL, or when reading by name
// is not exact (two attributes with one qualified name in different namespaces, or a name
// `getAttribute` does not find: an upper-case name set through `setAttributeNS` on an HTML
// element); `attributes` is read then.
function attributeFields(el, counted) {
  const names = el.getAttributeNames();
  let out = counted ? SEP + names.length : '';
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    for (let j = 0; j < i; j++) if (names[j] === name) return null;
    const value = el.getAttribute(name);
    if (value === null || value.indexOf(SEP) !== -1) return null;
    out += SEP + name + SEP + value;
  }
  return out;
}

// An element, text or comment in one string: a kind letter, then the fields, separated by NUL.
// Element: `E` + localName, namespace ('' for XHTML or none), then name, value per attribute.
// Text (and CDATA): `T` + data; comment: `C` + data (the rest of the string, NULs and all).
// `null` for any other node, and for an element whose attribute value holds a NUL (a script can
// set one; the parser never does): the caller reads those property by property.
export function describe(node) {
  switch (node.nodeType) {
    case 1: {
      const ns = node.namespaceURI;
      const head = 'E' + node.localName + SEP + (ns === null || ns === XHTML ? '' : ns);
      const fields = attributeFields(node, false);
      if (fields !== null) return head + fields;
      let out = head;
      const attrs = node.attributes;
      for (let i = 0; i < attrs.length; i++) {
        const a = attrs[i];
        const v = a.value;
        if (v.indexOf(SEP) !== -1) return null;
        out += SEP + a.name + SEP + v;
      }
      return out;
    }
    case 3:
    case 4:
      return 'T' + node.data;
    case 8:
      return 'C' + node.data;
    default:
      return null;
  }
}

// A capture walk of the subtree at `root` in one call (read in `walk.rs`, which documents the
// packing): every captured node in pre-order, pushed onto `nodes`, with its description, its
// captured children's count, whether `maskSel` matches it and (`withScroll`) its scroll offsets;
// shadow roots and frame documents met are pushed onto `roots`. The same rules as the walk
// node by node (`capture.rs`, `web/dom.rs`): children are an open shadow root, a same-origin
// frame's document, then the child nodes; our UI (`attr`) and undescribable nodes are left out;
// a `<script>` or an element `hideSel` matches has no captured children, nor has a node at
// depth `maxDepth` (the root is at depth 1). Hidden elements, documents, doctypes, shadow roots
// and anything holding a NUL are left for the caller to describe (`S`). The packing comes back
// as UTF-8 bytes: the browser's encoder is native, the string hand-over copies char by char.
export function walk(root, attr, maxDepth, withScroll, maskSel, hideSel, nodes, roots) {
  nodes.length = 0;
  roots.length = 0;
  return ENCODER.encode(walkInto(root, attr, maxDepth, withScroll, maskSel, hideSel, nodes, roots));
}

// The walks of many subtrees in one call: the subtrees a coalescing pass inserts, which a storm
// makes by the thousand (one `walk` each costs a call, a string and a copy into wasm each).
// Leaves (not an element, or no child nodes) are skipped: the caller reads those node by node.
// Each walked root gets its number (0, 1, …) in `index` (a WeakMap); nodes and roots go onto
// `nodes` and `roots` as `walk` pushes them, root after root, no scroll offsets read. The bytes:
// a header `<nodes>,<bytes>;` per walked root, in order, then `\n`, then each root's packing
// (UTF-8, `bytes` long, naming its `nodes` nodes).
export function walkMany(list, attr, maxDepth, maskSel, hideSel, nodes, roots, index) {
  nodes.length = 0;
  roots.length = 0;
  let head = '';
  const parts = [];
  let total = 0;
  for (let i = 0; i < list.length; i++) {
    const root = list[i];
    if (root.nodeType !== 1 || !root.hasChildNodes()) continue;
    const before = nodes.length;
    const bytes = ENCODER.encode(walkInto(root, attr, maxDepth, false, maskSel, hideSel, nodes, roots));
    index.set(root, parts.length);
    parts.push(bytes);
    head += (nodes.length - before) + ',' + bytes.length + ';';
    total += bytes.length;
  }
  const h = ENCODER.encode(head + '\n');
  const out = new Uint8Array(h.length + total);
  out.set(h, 0);
  let at = h.length;
  for (const b of parts) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

// One walk's packing (see `walk`), its nodes and roots pushed onto `nodes` and `roots`.
function walkInto(root, attr, maxDepth, withScroll, maskSel, hideSel, nodes, roots) {
  const start = nodes.length;
  const matches = (el, sel) => {
    try {
      return el.matches(sel) === true;
    } catch {
      return false;
    }
  };
  // The elements of one tree (the walk's, a shadow root's, a frame document's) the mask rules
  // match, found by one native query per tree instead of a `matches` call per element; `null`
  // when there are none (the usual case).
  const maskedIn = (scope) => {
    if (maskSel === null) return null;
    let found;
    try {
      found = scope.querySelectorAll(maskSel);
    } catch {
      return null;
    }
    return found.length === 0 ? null : new Set(found);
  };
  let out = '';
  // Node, depth, masked-set triples; children are pushed last first, so they come off in
  // document order.
  const stack = [root, 1, maskedIn(root)];
  while (stack.length > 0) {
    const masks = stack.pop();
    const depth = stack.pop();
    const node = stack.pop();
    const first = nodes.length === start;
    nodes.push(node);
    const type = node.nodeType;
    const isElement = type === 1;
    const hidden = isElement && hideSel !== null && matches(node, hideSel);
    let count = 0;
    if (depth < maxDepth && !(isElement && (hidden || node.localName === 'script'))) {
      const below = depth + 1;
      for (let c = node.lastChild; c !== null; c = c.previousSibling) {
        const t = c.nodeType;
        // Shadow roots are never child nodes; documents and doctypes are only a frame's.
        if (t === 1 ? !c.hasAttribute(attr) : t === 3 || t === 4 || t === 8 || t === 10) {
          stack.push(c, below, masks);
          count++;
        }
      }
      if (isElement) {
        // Before the child nodes: a frame's document, and first of all an open shadow root.
        if (node.localName === 'iframe' && node.namespaceURI === XHTML) {
          const doc = node.contentDocument;
          if (doc) {
            stack.push(doc, below, maskedIn(doc));
            roots.push(doc);
            count++;
          }
        }
        const sr = node.shadowRoot;
        if (sr) {
          stack.push(sr, below, maskedIn(sr));
          roots.push(sr);
          count++;
        }
      }
    }
    let x = 0;
    let y = 0;
    if (isElement && withScroll) {
      const left = node.scrollLeft;
      const top = node.scrollTop;
      if (left !== 0 || top !== 0) {
        x = left | 0;
        y = top | 0;
      }
    }
    // The root is not among its own descendants: asked directly.
    const masked = isElement && (first ? maskSel !== null && matches(node, maskSel) : masks !== null && masks.has(node));
    const tail = count + (masked ? ',1,' : ',0,') + x + ',' + y;
    if (first) {
      out += 'R' + tail;
      continue;
    }
    if (isElement && !hidden) {
      const ns = node.namespaceURI;
      const nsField = ns === null || ns === XHTML ? '' : ns;
      const fields = nsField.indexOf(SEP) === -1 ? attributeFields(node, true) : null;
      out += fields === null ? SEP + 'S' + tail : SEP + 'E' + tail + SEP + node.localName + SEP + nsField + fields;
    } else if ((type === 3 || type === 4 || type === 8) && node.data.indexOf(SEP) === -1) {
      out += SEP + (type === 8 ? 'C' : 'T') + tail + SEP + node.data;
    } else {
      out += SEP + 'S' + tail;
    }
  }
  return out;
}

// `describe(node)` for a node a capture walk meets among children: 'X' (nothing else) when it
// is an element carrying attribute `attr` (our own UI's marker: never captured), so the walk
// needs one call per child, not two.
export function describeCaptured(node, attr) {
  if (node.nodeType === 1 && node.hasAttribute(attr)) return 'X';
  return describe(node);
}

// The `cssText` of every rule of `sheet` in one string: the count, then each text, NUL-separated
// (serialized CSS never holds a NUL: the parser turns U+0000 into U+FFFD). `null` when the page
// may not read the rules (a cross-origin sheet throws), `false` when the caller must read them
// one by one (a text that is not a string or holds a NUL). One call per sheet, not two per rule.
export function ruleTexts(sheet) {
  let rules;
  try {
    rules = sheet.cssRules;
  } catch {
    return null;
  }
  if (rules === null || rules === undefined) return null;
  let out = String(rules.length);
  for (let i = 0; i < rules.length; i++) {
    const text = rules[i].cssText;
    if (typeof text !== 'string' || text.indexOf(SEP) !== -1) return false;
    out += SEP + text;
  }
  return out;
}

// Whether `node` is captured in the document now, in one call: 1 yes, 0 no, 2 when it could not
// be read (the caller then climbs node by node). The rule is the coalescer's climb
// (`coalesce::Placement`): every node up to `root` is captured (not our UI, marked with `attr`;
// a kind the capture describes), and no ancestor hides its children (`<script>`, an element
// the hide rule `hideSel` matches). Shadow roots go on at their host, frame documents at their
// `<iframe>`. `cache` (a Map) keeps the answer for every node climbed through, for one pass.
export function placed(node, root, attr, hideSel, cache) {
  try {
    const answer = climbCached(node, cache, (cur) => {
      const type = cur.nodeType;
      if (type === 1 ? cur.hasAttribute(attr) : !capturedKind(cur, type)) return false;
      if (cur === root) return true;
      const parent = parentOf(cur, root);
      if (!parent) return false;
      if (parent.nodeType === 1 && (parent.localName === 'script' || (hideSel !== null && parent.matches(hideSel)))) {
        return false;
      }
      return parent;
    });
    return answer ? 1 : 0;
  } catch {
    return 2;
  }
}

// A climb from `start` that one pass's questions share: `step(node)` answers true or false, or
// gives the next node up; every node climbed through gets the answer in `cache` (a Map kept for
// the pass), and a node already there answers for the rest of the climb.
function climbCached(start, cache, step) {
  const seen = [];
  let cur = start;
  let result;
  for (;;) {
    const known = cache.get(cur);
    if (known !== undefined) {
      result = known;
      break;
    }
    seen.push(cur);
    const next = step(cur);
    if (next === true || next === false) {
      result = next;
      break;
    }
    cur = next;
  }
  for (const n of seen) cache.set(n, result);
  return result;
}

// A node kind the capture describes, elements aside (`DomTree::captures`).
function capturedKind(node, type) {
  if (type === 3 || type === 4 || type === 8 || type === 9 || type === 10) return true;
  return type === 11 && isObject(node.host);
}

// The parent in capture terms: a shadow root's host, a frame document's `<iframe>`.
function parentOf(node, root) {
  return node.parentNode || treeExit(node, root);
}

// Where a tree goes on above its root `tree`: a shadow root at its host, a same-origin frame's
// document at its `<iframe>`; null for a detached fragment, for `top` (with none, every
// document is the top), and for a document whose frame cannot be read.
function treeExit(tree, top) {
  const type = tree.nodeType;
  if (type === 11) return isObject(tree.host) ? tree.host : null;
  if (type === 9 && top !== null && tree !== top) {
    try {
      const view = tree.defaultView;
      return view ? view.frameElement : null;
    } catch {
      return null;
    }
  }
  return null;
}

function isObject(v) {
  return typeof v === 'object' && v !== null;
}

// `closest(sel)` that goes on where a tree ends: from a shadow root at its host, from a
// same-origin frame's document at its `<iframe>`, up to `top` (this window's document; with none,
// every document is the top). A selector the element cannot answer counts as no match there.
// True past `hops` trees: deeper than any real page, counted as matched rather than leak.
export function composedClosest(el, sel, top, hops) {
  let cur = el;
  for (let i = 0; i < hops; i++) {
    try {
      if (cur.closest(sel) !== null) return true;
    } catch {
      // An unreadable match is no match; the climb goes on.
    }
    const next = treeExit(cur.getRootNode(), top);
    if (!isObject(next)) return false;
    cur = next;
  }
  return true;
}

// `composedClosest` for the many elements one coalescing pass asks about: the answer for every
// element climbed through goes into `cache` (a Map kept for the pass), so the thousand children
// of one parent cost one `matches` each rather than a climb each. Same rule, same `hops` limit.
export function composedClosestIn(el, sel, top, hops, cache) {
  let trees = 0;
  return climbCached(el, cache, (cur) => {
    try {
      if (cur.matches(sel)) return true;
    } catch {
      // An unreadable match is no match; the climb goes on.
    }
    let next = cur.parentNode;
    if (isObject(next) && next.nodeType !== 1) {
      next = treeExit(next, top);
      if (isObject(next) && ++trees >= hops) return true;
    }
    return isObject(next) ? next : false;
  });
}

// The number `map` (a WeakMap of node keys or ids) holds for `node`, NaN for none.
export function numberOf(map, node) {
  const v = map.get(node);
  return v === undefined ? NaN : v;
}

export function setNumber(map, node, value) {
  map.set(node, value);
}

// True when `node` is an element carrying attribute `attr` (our own UI's marker).
export function isElementWith(node, attr) {
  return node.nodeType === 1 && node.hasAttribute(attr);
}

// True when the element is scrolled (either offset non-zero). Offsets are read apart only then:
// almost no element is.
export function isScrolled(el) {
  return el.scrollLeft !== 0 || el.scrollTop !== 0;
}

// A MutationObserver callback's records in one string, their nodes pushed onto `nodes` (emptied
// first) in the order the string names them. Per record, NUL-separated:
// childList: `L<added>,<removed>` (that many nodes: the added, then the removed);
// attributes: `A<0|1><0|1><name>`, then the old value (first flag `1`: there was one) and the
// value now (second flag `1`: the attribute is set), node: the target;
// characterData: `T<0|1>` then the old value, node: the target. Other types are left out.
// `null` when an old value or a value now holds a NUL (the caller reads those records one by one).
// Only the first record of an attribute (or a text) counts: the coalescer compares the value
// before the callback with the value now, so later ones are left out here, which spares a storm
// of changes to the same attributes a crossing and a string per record. `type` records all go
// through: each old value is checked for a password field turned into a text field.
export function readRecords(records, nodes) {
  nodes.length = 0;
  let out = '';
  let seen = null;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.type !== 'childList' && r.attributeName !== 'type') {
      seen ??= new Map();
      const key = r.type === 'attributes' ? r.attributeName : '';
      let keys = seen.get(r.target);
      if (keys === undefined) seen.set(r.target, (keys = new Set()));
      else if (keys.has(key)) continue;
      keys.add(key);
    }
    switch (r.type) {
      case 'childList': {
        const a = r.addedNodes;
        const d = r.removedNodes;
        out += 'L' + a.length + ',' + d.length + SEP;
        for (let k = 0; k < a.length; k++) nodes.push(a[k]);
        for (let k = 0; k < d.length; k++) nodes.push(d[k]);
        break;
      }
      case 'attributes': {
        const old = r.oldValue;
        const now = r.target.getAttribute(r.attributeName);
        if ((old !== null && old.indexOf(SEP) !== -1) || (now !== null && now.indexOf(SEP) !== -1)) {
          return null;
        }
        out += 'A' + (old === null ? '0' : '1') + (now === null ? '0' : '1') + r.attributeName + SEP;
        out += (old === null ? '' : old) + SEP + (now === null ? '' : now) + SEP;
        nodes.push(r.target);
        break;
      }
      case 'characterData': {
        const old = r.oldValue;
        if (old !== null && old.indexOf(SEP) !== -1) return null;
        out += 'T' + (old === null ? '0' : '1') + SEP + (old === null ? '' : old) + SEP;
        nodes.push(r.target);
        break;
      }
    }
  }
  return out;
}
