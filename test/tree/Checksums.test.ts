/** CRC-32, Adler-32 and the tree digest's 64-bit wrapping sum, against published check values. */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as zlib from "node:zlib"
import { adler32, crc32, crc32Ascii } from "../../src/tree/Crc32.js"
import { type DigestFields, nodeDigest, TreeDigest } from "../../src/tree/Digest.js"
import { ZNode } from "../../src/tree/ZNode.js"

const ascii = (s: string) => new TextEncoder().encode(s)

describe("Crc32", () => {
  it("matches the standard check values", () => {
    assert.strictEqual(crc32(ascii("123456789")), 0xcbf43926) // the CRC-32/ISO-HDLC check value
    assert.strictEqual(crc32(new Uint8Array(0)), 0)
    assert.strictEqual(crc32(ascii("The quick brown fox jumps over the lazy dog")), 0x414fa339)
    assert.strictEqual(crc32Ascii("123456789"), 0xcbf43926)
    assert.strictEqual(adler32(ascii("Wikipedia")), 0x11e60398)
    assert.strictEqual(adler32(new Uint8Array(0)), 1)
  })

  it.prop("continuing over a split equals one pass, for crc32, crc32Ascii and adler32", [fc.uint8Array({ maxLength: 300 }), fc.nat()], ([b, k]) => {
    const cut = b.length === 0 ? 0 : k % (b.length + 1)
    assert.strictEqual(crc32(b, crc32(b, 0, 0, cut), cut), crc32(b))
    assert.strictEqual(adler32(b, adler32(b, 1, 0, cut), cut), adler32(b))
    const text = String.fromCharCode(...b.map((x) => x & 0x7f))
    assert.strictEqual(crc32Ascii(text.slice(cut), crc32Ascii(text.slice(0, cut))), crc32(ascii(text)))
  })

  it.prop("crc32 equals zlib's and adler32 the definition, at every length and offset", [fc.uint8Array({ maxLength: 3000 }), fc.nat(), fc.nat()], ([b, s, e]) => {
    const start = b.length === 0 ? 0 : s % b.length
    const end = start + (b.length === start ? 0 : e % (b.length - start + 1))
    assert.strictEqual(crc32(b, 0, start, end), zlib.crc32(b.subarray(start, end)))
    let a = 1
    let sum = 0
    for (let i = start; i < end; i++) {
      a = (a + b[i]!) % 65521
      sum = (sum + a) % 65521
    }
    assert.strictEqual(adler32(b, 1, start, end), ((sum << 16) | a) >>> 0)
  })

  it("adler32 stays exact past its 5552-byte reduction block", () => {
    const b = new Uint8Array(20_000).fill(0xff)
    // Reference: the definition, reduced every byte.
    let a = 1
    let s = 0
    for (const x of b) {
      a = (a + x) % 65521
      s = (s + a) % 65521
    }
    assert.strictEqual(adler32(b), ((s << 16) | a) >>> 0)
  })
})

describe("Digest", () => {
  it.prop("TreeDigest is the signed 64-bit wrapping sum; sub undoes add", [fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 50 })], ([crcs]) => {
    const d = new TreeDigest()
    for (const c of crcs) d.add(c)
    assert.strictEqual(d.value, BigInt.asIntN(64, crcs.reduce((s, c) => s + BigInt(c), 0n)))
    for (const c of [...crcs].reverse()) d.sub(c)
    assert.strictEqual(d.value, 0n)
  })

  it("nodeDigest: nodes under /zookeeper/ count 0; every covered field changes it", () => {
    const node = new ZNode(ascii("data"), 1, 0x100000001, 0x100000002, 1_700_000_000_000, 1_700_000_000_001, 3, 4, 5, 0n, 0x100000003)
    assert.strictEqual(nodeDigest("/zookeeper/quota", node), 0)
    const base = nodeDigest("/a", node)
    assert.notStrictEqual(base, 0)
    // The fields as a plain object (ZNode keeps several behind accessors, which a spread leaves out).
    const fields: DigestFields = {
      data: node.data, czxid: node.czxid, mzxid: node.mzxid, pzxid: node.pzxid, ctime: node.ctime, mtime: node.mtime,
      version: node.version, cversion: node.cversion, aversion: node.aversion, owner: node.owner
    }
    assert.strictEqual(nodeDigest("/a", fields), base)
    assert.notStrictEqual(nodeDigest("/b", node), base)
    const changed = [
      { data: ascii("datb") }, { data: null }, { czxid: node.czxid + 1 }, { mzxid: node.mzxid + 1 }, { pzxid: node.pzxid + 1 },
      { ctime: node.ctime + 1 }, { mtime: node.mtime + 1 }, { version: 4 }, { cversion: 5 }, { aversion: 6 }, { owner: 7n }
    ]
    for (const c of changed) assert.notStrictEqual(nodeDigest("/a", { ...fields, ...c }), base, JSON.stringify(Object.keys(c)))
    // The root hashes as the empty path; a non-ASCII path hashes its UTF-8 bytes.
    assert.notStrictEqual(nodeDigest("/", node), nodeDigest("/x", node))
    assert.notStrictEqual(nodeDigest("/é", node), nodeDigest("/e", node))
  })
})
