// The corpus score: identical "ink". A TodoMVC app covers a small part of its viewport; counting
// every pixel would let a page that is 90 % background score 90 % with nothing drawn at all. Ink is
// every pixel that is off the page background in either image, each image judged against its own
// background (its most common colour); the score is the share of ink pixels that pixelmatch finds
// identical. When the two backgrounds themselves differ, every pixel counts as ink (a wrong page
// colour is a difference, not a reason to look away).

import pixelmatch from 'pixelmatch';

/** Largest per-channel distance from the background colour that still counts as background. */
const BACKGROUND_TOLERANCE = 8;

/** The most common RGB colour of a decoded PNG (`{ data, width, height }`), as [r, g, b]. */
export function backgroundOf(png) {
  const counts = new Map();
  let best = 0;
  let bestKey = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const key = (png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2];
    const n = (counts.get(key) || 0) + 1;
    counts.set(key, n);
    if (n > best) {
      best = n;
      bestKey = key;
    }
  }
  return [(bestKey >> 16) & 255, (bestKey >> 8) & 255, bestKey & 255];
}

const near = (data, i, [r, g, b]) => Math.abs(data[i] - r) <= BACKGROUND_TOLERANCE
  && Math.abs(data[i + 1] - g) <= BACKGROUND_TOLERANCE
  && Math.abs(data[i + 2] - b) <= BACKGROUND_TOLERANCE;

/**
 * Scores two same-size decoded PNGs. Returns `{ share, ink, different, backgrounds }`: `share` is
 * the identical fraction of ink (1 when there is no ink at all), `ink` and `different` are pixel
 * counts, `backgrounds` the two colours found.
 */
export function inkScore(customer, replica) {
  const { width, height } = customer;
  if (replica.width !== width || replica.height !== height) {
    throw new Error(`image sizes differ: ${width}×${height} vs ${replica.width}×${replica.height}`);
  }
  const mask = Buffer.alloc(width * height * 4);
  // `diffMask`: only differing pixels are drawn (opaque red); anti-aliased ones are not counted.
  pixelmatch(customer.data, replica.data, mask, width, height, {
    threshold: 0.1, diffMask: true, diffColor: [255, 0, 0],
  });
  const bgA = backgroundOf(customer);
  const bgB = backgroundOf(replica);
  const sameBackground = bgA.every((c, k) => Math.abs(c - bgB[k]) <= BACKGROUND_TOLERANCE);
  let ink = 0;
  let different = 0;
  for (let i = 0; i < mask.length; i += 4) {
    const isInk = !sameBackground || !near(customer.data, i, bgA) || !near(replica.data, i, bgB);
    if (!isInk) continue;
    ink += 1;
    if (mask[i + 3] !== 0 && mask[i] === 255 && mask[i + 1] === 0) different += 1;
  }
  return { share: ink ? 1 - different / ink : 1, ink, different, backgrounds: [bgA, bgB] };
}
