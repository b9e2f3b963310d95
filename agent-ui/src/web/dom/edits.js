// The edit buffer's interpreter: applies a batch of DOM operations recorded by the agent's wasm
// (`agent-ui/src/edits.rs` writes them; keep the opcodes and their operands in sync) in one call,
// instead of one wasm↔JS crossing per node.
//
// It runs in the agent page's realm (wasm-bindgen imports it as a module snippet) and creates
// nodes with the replica's top document, so every node belongs to the sandboxed frame; nested
// frame documents adopt them on insertion. It decides nothing about content: everything it is
// given was sanitised in Rust. Its one check is the sanitiser's second wall, which needs the
// DOM's answer: an element not made as the name Rust vetted is dropped (its slot stays null, and
// operations on a null node do nothing, so neither it nor its subtree reaches a document).
//
// Nodes live in `nodes`, indexed by slot (0 is "none"); Rust owns slot numbering and releases.

const HTML_NS = 'http://www.w3.org/1999/xhtml';

export class Edits {
  /** @param {WeakMap<Node, number>} ids node → customer id, for pointer targeting */
  constructor(ids) {
    this.setDocument(null, ids);
  }

  /** A new replica document: the table is emptied and `doc` creates the nodes from now on. */
  setDocument(doc, ids) {
    this.doc = doc;
    this.ids = ids;
    this.nodes = [null];
    // What this document was given, for `holdsFrame`.
    this.frames = 0;
    this.shadows = 0;
  }

  /**
   * Whether moving `node` must keep a frame's document: an atomic `moveBefore` does (a frame
   * re-inserted is a new, blank browsing context until the next snapshot), a re-insertion does
   * not. Everything else is re-inserted, as the customer's page itself mostly did (a move in the
   * record is a removal and an insertion). Counts of the frames and shadow roots this document was
   * given answer most moves without a walk; a shadow root below `node` hides its frames from
   * `querySelector`, so with any shadow root present every element move counts as holding one.
   */
  holdsFrame(node) {
    if (this.frames === 0 || node.nodeType !== 1) return false;
    if (node.localName === 'iframe' || node.localName === 'frame' || this.shadows > 0) return true;
    return node.querySelector('iframe, frame') !== null;
  }

  /** Puts a node Rust obtained itself (a document) at `slot`. */
  put(slot, node) {
    this.nodes[slot] = node;
  }

  /** The node at `slot`, or null. */
  get(slot) {
    return this.nodes[slot] ?? null;
  }

  /**
   * Runs one buffer: `ops` (Uint32Array view of wasm memory, read only during this call), `text`
   * (every string, concatenated) and `ends` (where each string ends in `text`, UTF-16 units).
   * Returns how many operations threw (each skipped alone).
   */
  run(ops, text, ends) {
    // Copies: a DOM call that ran wasm (a synchronous event) could grow its memory and detach
    // the views.
    ops = ops.slice();
    ends = ends.slice();
    const nodes = this.nodes;
    const doc = this.doc;
    const str = (i) => text.substring(i === 0 ? 0 : ends[i - 1], ends[i]);
    let failed = 0;
    let i = 0;
    const n = ops.length;
    while (i < n) {
      // Operands are read and `i` advanced before the DOM call, so an exception skips exactly
      // this operation.
      const code = ops[i];
      try {
        switch (code) {
          case 1: { // CREATE_ELEMENT slot ns tag vetted
            const slot = ops[i + 1], ns = str(ops[i + 2]), tag = str(ops[i + 3]);
            const vetted = str(ops[i + 4]);
            i += 5;
            nodes[slot] = null;
            const el = ns === HTML_NS ? doc.createElement(tag) : doc.createElementNS(ns, tag);
            if (el.namespaceURI === ns && el.localName === vetted) {
              nodes[slot] = el;
              if (vetted === 'iframe' || vetted === 'frame') this.frames++;
            } else failed++;
            break;
          }
          case 2: { // CREATE_TEXT slot text
            const slot = ops[i + 1], t = str(ops[i + 2]);
            i += 3;
            nodes[slot] = doc.createTextNode(t);
            break;
          }
          case 3: { // CREATE_COMMENT slot text
            const slot = ops[i + 1], t = str(ops[i + 2]);
            i += 3;
            nodes[slot] = doc.createComment(t);
            break;
          }
          case 4: { // CREATE_DOCTYPE slot name public system
            const slot = ops[i + 1];
            const name = str(ops[i + 2]), pub = str(ops[i + 3]), sys = str(ops[i + 4]);
            i += 5;
            nodes[slot] = null;
            nodes[slot] = doc.implementation.createDocumentType(name, pub, sys);
            break;
          }
          case 5: { // ATTACH_SHADOW slot host
            const slot = ops[i + 1], host = nodes[ops[i + 2]];
            i += 3;
            nodes[slot] = null;
            if (host) {
              nodes[slot] = host.attachShadow({ mode: 'open' });
              this.shadows++;
            }
            break;
          }
          case 6: { // INSERT parent child before
            const parent = nodes[ops[i + 1]], child = nodes[ops[i + 2]];
            const b = ops[i + 3];
            i += 4;
            if (!parent || !child) break;
            const before = b === 0 ? null : (nodes[b] ?? null);
            if (child.isConnected && parent.isConnected && typeof parent.moveBefore === 'function'
                && this.holdsFrame(child)) {
              // Chromium (156) can leave the moved subtree's restyled elements without a layout
              // box after `moveBefore` when their style changed earlier in the same frame (an
              // item's class shows its `.view` again, then the item moves: the view stays
              // invisible until something rebuilds the layout). Bringing layout up to date
              // first avoids it; moves of frames are rare enough to pay for that.
              void child.getBoundingClientRect();
              try {
                parent.moveBefore(child, before);
                break;
              } catch (_) { /* plain insertion below; it throws for moves it cannot make */ }
            }
            parent.insertBefore(child, before);
            break;
          }
          case 7: { // REMOVE node
            const node = nodes[ops[i + 1]];
            i += 2;
            const p = node && node.parentNode;
            if (p) p.removeChild(node);
            break;
          }
          case 8: { // SET_ATTR el name value
            const el = nodes[ops[i + 1]], name = str(ops[i + 2]), v = str(ops[i + 3]);
            i += 4;
            if (el && el.nodeType === 1) el.setAttribute(name, v);
            break;
          }
          case 9: { // SET_ATTR_NS el ns name value
            const el = nodes[ops[i + 1]], ns = str(ops[i + 2]);
            const name = str(ops[i + 3]), v = str(ops[i + 4]);
            i += 5;
            if (el && el.nodeType === 1) el.setAttributeNS(ns, name, v);
            break;
          }
          case 10: { // REMOVE_ATTR el name
            const el = nodes[ops[i + 1]], name = str(ops[i + 2]);
            i += 3;
            if (el && el.nodeType === 1) el.removeAttribute(name);
            break;
          }
          case 11: { // REMOVE_ATTR_NS el ns local
            const el = nodes[ops[i + 1]], ns = str(ops[i + 2]), local = str(ops[i + 3]);
            i += 4;
            if (el && el.nodeType === 1) el.removeAttributeNS(ns, local);
            break;
          }
          case 12: { // SET_TEXT node text
            const node = nodes[ops[i + 1]], t = str(ops[i + 2]);
            i += 3;
            if (node) node.nodeValue = t;
            break;
          }
          case 13: { // REGISTER node id
            const node = nodes[ops[i + 1]], id = ops[i + 2];
            i += 3;
            if (node) this.ids.set(node, id);
            break;
          }
          case 14: { // RELEASE slot
            const slot = ops[i + 1];
            i += 2;
            nodes[slot] = null;
            break;
          }
          default:
            // Unknown opcode: the two sides are out of sync; nothing after it can be read.
            return failed + 1;
        }
      } catch (_) {
        failed++;
      }
    }
    return failed;
  }
}
