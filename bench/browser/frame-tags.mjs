// The frames one WebSocket message of our client carries, read in the bench's pages with the
// tests' reader (`tests/lib/frames.mjs`: a `Batch` holds several, a `Seq` wraps one). An init
// script runs in the page, where nothing can be imported, so the reader goes in as its source.

import { TAG_BATCH, TAG_SEQ, framesOf, innerFrame } from '../../tests/lib/frames.mjs';

/** Init script (source text): defines `window.__framesOf(u8)` → `[{ tag, len }]`, one per
 *  frame carried (a `Seq`'s inner frame's tag and length). */
export const installFrameReader = `(() => {
  const TAG_SEQ = ${TAG_SEQ};
  const TAG_BATCH = ${TAG_BATCH};
  ${innerFrame.toString()}
  ${framesOf.toString()}
  window.__framesOf = (u8) =>
    framesOf(u8).filter((f) => f.length >= 2).map((f) => ({ tag: f[1], len: f.length }));
})();`;
