/** SessionTracker (tick buckets, touch, expiry on explicit times) and SessionId (ids, passwords). */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { initialSessionId, nextSessionId, passwordMatches, sessionPassword } from "../../src/server/sessions/SessionId.js"
import { SessionTracker } from "../../src/server/sessions/SessionTracker.js"

describe("SessionTracker", () => {
  /** A tracker on a clock the test sets. */
  const tracker = (tick: number) => {
    const clock = { now: 0 }
    return { t: new SessionTracker(tick, () => clock.now), at: (ms: number) => void (clock.now = ms) }
  }

  it("a deadline is rounded up to the tick after now + timeout", () => {
    const { t } = tracker(2000)
    assert.strictEqual(t.deadline(0, 4000), 6000)
    assert.strictEqual(t.deadline(1999, 4000), 6000)
    assert.strictEqual(t.deadline(2000, 4000), 8000)
  })

  it("expires whole buckets at their deadline, not before; expired sessions are closing", () => {
    const { t, at } = tracker(2000)
    const a = t.add(1n, 4000) // 6000
    at(1500)
    const b = t.add(2n, 4000) // 6000
    at(0)
    t.add(3n, 10_000) // 12000
    assert.deepStrictEqual(t.dump(), [[6000, [1n, 2n]], [12000, [3n]]])
    at(5999)
    assert.deepStrictEqual(t.expire(), [])
    at(6000)
    assert.deepStrictEqual(t.expire().map((s) => s.id), [1n, 2n])
    assert.isTrue(a.closing && b.closing)
    assert.deepStrictEqual(t.expire(), [], "a bucket expires once")
    assert.isFalse(t.touch(a), "a closing session cannot be kept alive")
    assert.deepStrictEqual(t.dump(), [[12000, [3n]]])
  })

  it("touch moves a session to a later bucket; add of a known id updates its timeout; remove unbuckets", () => {
    const { t, at } = tracker(1000)
    const s = t.add(7n, 3000) // 4000
    at(2500)
    assert.isTrue(t.touch(s)) // 6000
    at(4000)
    assert.deepStrictEqual(t.expire(), [])
    at(2500)
    assert.strictEqual(t.add(7n, 5000), s) // 8000
    assert.deepStrictEqual(t.dump(), [[8000, [7n]]])
    t.remove(7n)
    assert.deepStrictEqual(t.dump(), [])
    assert.isUndefined(t.get(7n))
    at(100_000)
    assert.deepStrictEqual(t.expire(), [])
  })

  it.prop("each live session sits in exactly the bucket of its last touch", [fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 10_000 })), { maxLength: 60 })], ([ops]) => {
    const { t, at } = tracker(500)
    let now = 0
    const last = new Map<bigint, number>()
    for (const [id, dt] of ops) {
      now += dt
      at(now)
      const sid = BigInt(id)
      for (const s of t.expire()) {
        assert.isAtMost(t.deadline(last.get(s.id)!, 3000), now, "expired before its deadline")
        t.remove(s.id)
        last.delete(s.id)
      }
      t.add(sid, 3000)
      last.set(sid, now)
    }
    const expected = new Map<number, Array<bigint>>()
    for (const [id, at] of last) expected.set(t.deadline(at, 3000), [...(expected.get(t.deadline(at, 3000)) ?? []), id])
    const sorted = [...expected].map(([at, ids]) => [at, ids.sort()] as const).sort((x, y) => x[0] - y[0])
    assert.deepStrictEqual<unknown>(t.dump().map(([at, ids]) => [at, [...ids].sort()]), sorted)
  })
})

describe("SessionId", () => {
  it("the first id carries the server id in its top byte; next skips the container marker", () => {
    const id = initialSessionId(5, 1_700_000_000_000)
    assert.strictEqual(id >> 56n, 5n)
    assert.strictEqual(id & 0xffffn, 0n, "the low 16 bits count sessions from 0")
    assert.strictEqual(nextSessionId(id), id + 1n)
    assert.strictEqual(nextSessionId(0x7fffffffffffffffn), -0x7fffffffffffffffn)
  })

  it("the password is java.util.Random(id ^ 0xB3415C00).nextBytes(16)", () => {
    // new java.util.Random(0).nextInt() == -1155484576 (0xBB20B460), written little-endian by nextBytes.
    assert.deepStrictEqual([...sessionPassword(0xb3415c00n).subarray(0, 4)], [0x60, 0xb4, 0x20, 0xbb])
    assert.strictEqual(sessionPassword(1n).length, 16)
  })

  it.prop("a password matches its own session only", [fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })], ([id]) => {
    const pw = sessionPassword(id)
    assert.isTrue(passwordMatches(id, pw))
    assert.isFalse(passwordMatches(BigInt.asIntN(64, id + 1n), pw))
    assert.isFalse(passwordMatches(id, pw.subarray(0, 15)))
  })
})
