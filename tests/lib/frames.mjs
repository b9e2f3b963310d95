// Reading protocol frames in tests that look at raw socket bytes (a route, the server's frame
// capture). On a link (protocol/README.md "Links") most frames travel inside a `Seq` frame:
// `[version][tag 27][varint seq][the inner frame]`; `innerFrame` gives the frame a receiver
// applies, so a case can read its tag at [1] whether or not it was sequenced.

/** protocol::tags::SEQ. */
export const TAG_SEQ = 27;

/** The frame inside a `Seq` frame, or the frame itself when it is not one. */
export function innerFrame(bytes) {
  if (bytes.length < 3 || bytes[1] !== TAG_SEQ) return bytes;
  let i = 2;
  while (i < bytes.length && bytes[i] & 0x80) i += 1;
  return bytes.subarray(i + 1);
}
