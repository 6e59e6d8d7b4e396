/**
 * CRC-32 (IEEE, as java.util.zip.CRC32 and zlib) in plain TypeScript, slicing-by-4, so the pure
 * tree can maintain ZooKeeper's digest without node:zlib.
 */
const T = new Int32Array(4 * 256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  T[n] = c
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!
  for (let s = 1; s < 4; s++) {
    c = T[c & 0xff]! ^ (c >>> 8)
    T[s * 256 + n] = c
  }
}

/** Continues a CRC over bytes[start, end); start a fresh CRC with crc = 0. Returns an unsigned value. */
export const crc32 = (bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number => {
  let c = ~crc
  let i = start
  for (; i + 4 <= end; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    c = T[768 + (c & 0xff)]! ^ T[512 + ((c >>> 8) & 0xff)]! ^ T[256 + ((c >>> 16) & 0xff)]! ^ T[c >>> 24]!
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
    for (; i < stop; i++) {
      a += bytes[i]!
      b += a
    }
    a %= 65521
    b %= 65521
  }
  return ((b << 16) | a) >>> 0
}
