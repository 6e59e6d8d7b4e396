import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import * as Zxid from "../../src/wire/Zxid.js"

describe("Zxid", () => {
  it("splits into epoch and counter as ZooKeeper writes them", () => {
    assert.strictEqual(Zxid.make(2, 6), 0x200000006)
    assert.strictEqual(Zxid.epochOf(0x200000006), 2)
    assert.strictEqual(Zxid.counterOf(0x200000006), 6)
    assert.strictEqual(Zxid.epochStart(1), 0x100000000)
    assert.strictEqual(Zxid.toHex(0x10000000a), "0x10000000a")
  })

  it("round-trips every epoch and counter", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.integer({ min: 0, max: Zxid.MAX_EPOCH }), FastCheck.integer({ min: 0, max: 0xffffffff }), (e, c) => {
        const z = Zxid.make(e, c)
        return Zxid.epochOf(z) === e && Zxid.counterOf(z) === c && Number.isSafeInteger(z)
      })
    )
  })

  it("a counter hands out consecutive zxids and refuses to overflow into the next epoch", () => {
    const c = new Zxid.ZxidCounter(Zxid.make(3, Zxid.MAX_COUNTER - 2))
    assert.strictEqual(c.next(), Zxid.make(3, Zxid.MAX_COUNTER - 1))
    assert.strictEqual(c.next(), Zxid.make(3, Zxid.MAX_COUNTER))
    assert.isFalse(c.canAdvance)
    assert.throws(() => c.next(), /exhausted/)
    c.startEpoch(4)
    assert.strictEqual(c.current, 0x400000000)
    assert.strictEqual(c.next(), 0x400000001)
  })
})
