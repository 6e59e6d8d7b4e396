// Log-linear latency histogram in integer microseconds (HDR-style, ~0.2 % relative precision).
// Values < 1024 µs are exact; above, each power of two is split into 512 linear buckets.
// Recording is one Math.clz32 and an array increment, cheap enough for the hot loop.

const EXACT = 1024;
const SUB = 512;
export const HIST_SIZE = EXACT + 22 * SUB; // covers up to 2^31 µs

export function newHist() {
  return new Float64Array(HIST_SIZE);
}

/** Bucket index of a latency in µs. */
export function bucketOf(us) {
  let v = us <= 0 ? 0 : us >= 0x7fffffff ? 0x7fffffff : Math.round(us);
  if (v < EXACT) return v;
  const shift = 31 - Math.clz32(v) - 9; // >= 1
  return EXACT + (shift - 1) * SUB + ((v >>> shift) - SUB);
}

/** Representative (mid-bucket) value of a bucket, in µs. */
export function valueOf(index) {
  if (index < EXACT) return index;
  const k = index - EXACT;
  const shift = Math.floor(k / SUB) + 1;
  const m = SUB + (k % SUB);
  const width = 2 ** shift;
  return m * width + (width - 1) / 2;
}

export function record(hist, us) {
  hist[bucketOf(us)]++;
}

export function merge(into, from) {
  for (let i = 0; i < HIST_SIZE; i++) into[i] += from[i] ?? 0;
  return into;
}

/** Summary: count, mean, p50, p99, p999, max (µs). */
export function summarize(hist) {
  let count = 0;
  let sum = 0;
  let maxIdx = -1;
  for (let i = 0; i < HIST_SIZE; i++) {
    const c = hist[i] ?? 0;
    if (c > 0) {
      count += c;
      sum += c * valueOf(i);
      maxIdx = i;
    }
  }
  if (count === 0) return { count: 0, mean: null, p50: null, p99: null, p999: null, max: null };
  const ranks = [0.5, 0.99, 0.999].map((q) => Math.max(1, Math.ceil(q * count)));
  const out = [];
  let cum = 0;
  let r = 0;
  for (let i = 0; i < HIST_SIZE && r < ranks.length; i++) {
    cum += hist[i] ?? 0;
    while (r < ranks.length && cum >= (ranks[r] ?? Infinity)) {
      out.push(valueOf(i));
      r++;
    }
  }
  const round = (x) => Math.round(x * 10) / 10;
  return {
    count,
    mean: round(sum / count),
    p50: round(out[0] ?? 0),
    p99: round(out[1] ?? 0),
    p999: round(out[2] ?? 0),
    max: round(valueOf(maxIdx)),
  };
}
