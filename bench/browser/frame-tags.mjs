// The frames one WebSocket message of our client carries, for the bench's init scripts (it runs
// in the page, so it cannot import): a `Batch` (tag 35) holds several, each as [varint length]
// [frame]; a `Seq` (tag 27) wraps one, [varint number][inner frame]. All tags are below 128,
// one byte.

/** Init script: defines `window.__framesOf(u8)` → `[{ tag, len }]`, one per frame carried (a
 *  `Seq`'s inner tag and length). */
export function installFrameReader() {
  const one = (a, s, e, out) => {
    if (e - s < 2) return;
    let tag = a[s + 1];
    let len = e - s;
    if (tag === 27) {
      let k = s + 2;
      while (k < e && a[k] & 0x80) k += 1;
      tag = k + 2 < e ? a[k + 2] : -1;
      len = e - (k + 1);
    }
    out.push({ tag, len });
  };
  window.__framesOf = (u8) => {
    const out = [];
    if (u8.length > 1 && u8[1] === 35) {
      let k = 2;
      while (k < u8.length) {
        let len = 0;
        let scale = 1;
        let byte;
        do {
          byte = u8[k];
          k += 1;
          len += (byte & 0x7f) * scale;
          scale *= 128;
        } while (byte & 0x80 && k < u8.length);
        one(u8, k, Math.min(k + len, u8.length), out);
        k += len;
      }
    } else {
      one(u8, 0, u8.length, out);
    }
    return out;
  };
}
