/**
 * Session ids and passwords as ZooKeeper makes them (client.md §3.5, §3.6), so sessions look the
 * same to clients and a restarted server can re-check a password without storing it.
 */

const MASK_64 = (1n << 64n) - 1n
const MASK_48 = (1n << 48n) - 1n
const MULTIPLIER = 0x5deece66dn

/** First session id of a server: serverId in the top byte, monotonic ms in bits 55..16, counter below. */
export const initialSessionId = (serverId: number, monotonicMs: number): bigint => {
  const time = ((BigInt(Math.floor(monotonicMs)) << 24n) & MASK_64) >> 8n
  let id = BigInt.asIntN(64, time | (BigInt(serverId) << 56n))
  if (id === -0x8000000000000000n) id++
  return id
}

/** The next id after `id` (skipping the container marker, as ZooKeeper does). */
export const nextSessionId = (id: bigint): bigint => {
  let next = BigInt.asIntN(64, id + 1n)
  if (next === -0x8000000000000000n) next++
  return next
}

/** 16-byte password: java.util.Random(sessionId XOR 0xB3415C00).nextBytes(16). */
export const sessionPassword = (sessionId: bigint): Uint8Array => {
  let state = (BigInt.asUintN(64, sessionId ^ 0xb3415c00n) ^ MULTIPLIER) & MASK_48
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i += 4) {
    state = (state * MULTIPLIER + 0xbn) & MASK_48
    const r = Number(BigInt.asIntN(32, state >> 16n))
    out[i] = r & 0xff
    out[i + 1] = (r >> 8) & 0xff
    out[i + 2] = (r >> 16) & 0xff
    out[i + 3] = (r >> 24) & 0xff
  }
  return out
}

/** Constant-time comparison of a presented password with the expected one. */
export const passwordMatches = (sessionId: bigint, presented: Uint8Array): boolean => {
  const expected = sessionPassword(sessionId)
  if (presented.length !== expected.length) return false
  let diff = 0
  for (let i = 0; i < expected.length; i++) diff |= expected[i]! ^ presented[i]!
  return diff === 0
}
