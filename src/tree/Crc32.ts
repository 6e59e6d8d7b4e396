/**
 * CRC-32 (IEEE, as java.util.zip.CRC32 and zlib) in plain TypeScript, slicing-by-8, so the pure
 * tree can maintain ZooKeeper's digest without node:zlib.
 */
const T = new Int32Array(8 * 256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  T[n] = c
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!
  for (let s = 1; s < 8; s++) {
    c = T[c & 0xff]! ^ (c >>> 8)
    T[s * 256 + n] = c
  }
}

/** Continues a CRC over bytes[start, end); start a fresh CRC with crc = 0. Returns an unsigned value. */
export const crc32 = (bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number => {
  let c = ~crc
  let i = start
  for (; i + 8 <= end; i += 8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    c =
      T[1792 + (c & 0xff)]! ^ T[1536 + ((c >>> 8) & 0xff)]! ^ T[1280 + ((c >>> 16) & 0xff)]! ^ T[1024 + (c >>> 24)]! ^
      T[768 + bytes[i + 4]!]! ^ T[512 + bytes[i + 5]!]! ^ T[256 + bytes[i + 6]!]! ^ T[bytes[i + 7]!]!
  }
  for (; i < end; i++) c = T[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/** Continues a CRC over the UTF-8 bytes of an ASCII-only string without encoding it first. */
export const crc32Ascii = (s: string, crc = 0): number => {
  let c = ~crc
  for (let i = 0; i < s.length; i++) c = T[(c ^ s.charCodeAt(i)) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/** Adler-32 (txn log and snapshot checksums, storage.md §2.2, §3.1); continue with the previous value. */
export const adler32 = (bytes: Uint8Array, adler = 1, start = 0, end = bytes.length): number => {
  let a = adler & 0xffff
  let b = adler >>> 16
  let i = start
  while (i < end) {
    // 5552 is the largest n such that 255n(n+1)/2 + (n+1)(65520) < 2^32 (zlib's NMAX).
    const stop = Math.min(end, i + 5552)
    // Eight bytes at a time: a gains their sum, b eight times the old a plus their weighted sum
    // (the b of the byte-wise loop, unrolled; JS numbers hold it exactly).
    for (; i + 8 <= stop; i += 8) {
      const x0 = bytes[i]!
      const x1 = bytes[i + 1]!
      const x2 = bytes[i + 2]!
      const x3 = bytes[i + 3]!
      const x4 = bytes[i + 4]!
      const x5 = bytes[i + 5]!
      const x6 = bytes[i + 6]!
      const x7 = bytes[i + 7]!
      b += 8 * (a + x0) + 7 * x1 + 6 * x2 + 5 * x3 + 4 * x4 + 3 * x5 + 2 * x6 + x7
      a += x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7
    }
    for (; i < stop; i++) {
      a += bytes[i]!
      b += a
    }
    a %= 65521
    b %= 65521
  }
  return ((b << 16) | a) >>> 0
}
