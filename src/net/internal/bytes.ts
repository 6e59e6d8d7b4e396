/** Joins byte chunks into one array (`length`, when the caller already knows it, saves a pass). */
export const concat = (parts: ReadonlyArray<Uint8Array>, length = parts.reduce((n, p) => n + p.length, 0)): Uint8Array => {
  const out = new Uint8Array(length)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}
