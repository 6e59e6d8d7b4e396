/** The digest log behind `hash`: one entry per zxid divisible by 128, the newest 1024 kept. */
import { assert, describe, it } from "@effect/vitest"
import { DIGEST_LOG_LIMIT, DigestLog, TreeDigest } from "../../src/tree/Digest.js"

describe("DigestLog", () => {
  it("records the digest at every multiple of 128 and keeps only the newest 1024", () => {
    const log = new DigestLog()
    const digest = new TreeDigest()
    for (let zxid = 1; zxid <= 128 * (DIGEST_LOG_LIMIT + 5) + 7; zxid++) {
      digest.add(zxid)
      log.record(zxid, digest)
    }
    const entries = log.entries()
    assert.strictEqual(entries.length, DIGEST_LOG_LIMIT)
    assert.strictEqual(entries[0]!.zxid, 128 * 6)
    assert.strictEqual(entries[entries.length - 1]!.zxid, 128 * (DIGEST_LOG_LIMIT + 5))
    // The digest as it was at that zxid: the sum 1 + … + zxid.
    const z = entries[0]!.zxid
    assert.strictEqual(entries[0]!.digest, BigInt((z * (z + 1)) / 2))
  })
})
