// Reading protocol frames in tests that look at raw socket bytes (a route, the server's frame
// capture). On a link (protocol/README.md "Links") most frames travel inside a `Seq` frame:
// `[version][tag 27][varint seq][the inner frame]`, and a client sends what one task produced
// as one `Batch` message: `[version][tag 35]` then `[varint length][frame]` per frame. So a
// WebSocket message carries one frame or several; `framesOf` gives the frames a receiver
// applies, so a case can read each one's tag at [1] whatever way it travelled.

/** protocol::tags::SEQ. */
export const TAG_SEQ = 27;
/** protocol::tags::BATCH. */
export const TAG_BATCH = 35;

/** The frame inside a `Seq` frame, or the frame itself when it is not one. */
export function innerFrame(bytes) {
  if (bytes.length < 3 || bytes[1] !== TAG_SEQ) return bytes;
  let i = 2;
  while (i < bytes.length && bytes[i] & 0x80) i += 1;
  return bytes.subarray(i + 1);
}

/** The frames one WebSocket message carries (a batch's each, or the message itself), each
 * unwrapped from its `Seq`. */
export function framesOf(bytes) {
  if (bytes.length < 2 || bytes[1] !== TAG_BATCH) return [innerFrame(bytes)];
  const out = [];
  for (let k = 2; k < bytes.length;) {
    let len = 0;
    let scale = 1;
    let byte;
    do {
      byte = bytes[k];
      k += 1;
      len += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80 && k < bytes.length);
    out.push(innerFrame(bytes.subarray(k, k + len)));
    k += len;
  }
  return out;
}
