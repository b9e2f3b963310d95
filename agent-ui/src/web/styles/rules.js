// The replica's rule lists read in bulk for `prefs.rs` and `pseudo_sheet.rs`: one call per rule
// list instead of several per rule. A sheet of a few thousand rules otherwise costs tens of
// thousands of calls from wasm, on joining and again whenever a sheet's rule count changes (a
// CSS-in-JS library inserting rules). Pure reads: the Rust side makes every change, and decides
// with the same tests these pre-filters apply (both are named at each test).

// Our copies' selectors carry this (`COPY_MARK` in `web/dom/cssom.rs`).
const COPY_MARK = '[data-cobrowse-';

// The rules of `owner` (a sheet, or a rule with child rules) that may need a pseudo-state copy,
// as their indices in `owner.cssRules`, highest first (so inserting a copy after one moves none
// still to do), pushed onto `indices`: style rules that are not copies and whose selector has a
// ':' followed by h, a or f (`may_need_rewrite` in css-rewrite). Rules with child rules of their
// own are pushed onto `nested`. Both are emptied first. False when `owner`'s rules cannot be read.
export function copyCandidates(owner, indices, nested) {
  indices.length = 0;
  nested.length = 0;
  let rules;
  try {
    rules = owner.cssRules;
  } catch {
    return false;
  }
  if (rules === null || rules === undefined) return false;
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i];
    if (r === null || typeof r !== 'object') continue;
    const sel = r.selectorText;
    if (typeof sel === 'string') {
      if (sel.indexOf(COPY_MARK) !== -1) continue;
      if (/:[haf]/i.test(sel)) indices.push(i);
    }
    const inner = r.cssRules;
    if (inner !== null && inner !== undefined && inner.length > 0) nested.push(r);
  }
  return true;
}

// The rules of `list` and of the rule lists nested in it (down to depth 32: a hostile page
// cannot make the walk unbounded) that the customer's preferences may touch, pushed onto `out` (emptied first):
// rules `originals` holds (rewritten before), with `defined` a selector naming ':defined'
// (`rewrite_defined`'s pre-check), with `scheme` a media list naming 'prefers-color-scheme'
// (`rewrite_media`'s) or a style rule's `color-scheme` set (`Prefs::style_rule` skips it
// empty), and every `@import` (its sheet is adjusted on its own).
export function prefsCandidates(list, originals, defined, scheme, out) {
  out.length = 0;
  const visit = (rules, depth) => {
    if (depth > 32) return;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if (r === null || typeof r !== 'object') continue;
      const sel = r.selectorText;
      const hasSel = sel !== null && sel !== undefined;
      let wanted = originals.has(r) || (r.styleSheet !== null && r.styleSheet !== undefined);
      if (!wanted && defined && typeof sel === 'string' && /:defined/i.test(sel)) wanted = true;
      if (!wanted && scheme) {
        const media = r.media;
        if (media !== null && media !== undefined && /prefers-color-scheme/i.test(String(media.mediaText))) {
          wanted = true;
        } else if (hasSel && r.style !== null && r.style !== undefined) {
          wanted = r.style.getPropertyValue('color-scheme') !== '';
        }
      }
      if (wanted) out.push(r);
      const inner = r.cssRules;
      if (inner !== null && inner !== undefined && inner.length > 0) visit(inner, depth + 1);
    }
  };
  visit(list, 0);
}
