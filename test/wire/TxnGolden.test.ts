/**
 * Golden tests of the txn codecs against ZooKeeper 3.8.0's own txn logs
 * (shared/protocol/vectors/datadir-*): a minimal log walker (storage.md §2: 16-byte header, then
 * checksum long + buffer + 0x42 until a zero length) feeds every txnEntry to readTxnEntry, the
 * result is compared with the fixture's JSON and re-encoded byte for byte with writeTxnEntry.
 * The storage layer proper lives in src/storage; this walker exists only to reach the records.
 */
import { assert, describe, it } from "@effect/vitest"
import { encodeWith, JuteReader } from "../../src/wire/Jute.js"
import * as T from "../../src/wire/TxnRecords.js"
import * as V from "./vectors.js"

interface LogRecord {
  readonly offset: number
  readonly checksum: number
  readonly entry: Uint8Array
}

/** Adler-32 (zlib), as ZooKeeper's per-record checksum. */
const adler32 = (b: Uint8Array): number => {
  let a = 1
  let s = 0
  for (let i = 0; i < b.length; i++) {
    a = (a + b[i]!) % 65521
    s = (s + a) % 65521
  }
  return ((s << 16) | a) >>> 0
}

/** Splits a log file into records; stops at the zero padding (length 0) or the end of the file. */
const walkLog = (file: Uint8Array): { header: { magic: number; version: number; dbid: bigint }; records: Array<LogRecord> } => {
  const r = new JuteReader(file)
  const header = { magic: r.int(), version: r.int(), dbid: r.bigLong() }
  const records: Array<LogRecord> = []
  while (r.remaining >= 12) {
    const offset = r.pos
    const checksum = r.long()
    const entry = r.bufferView()
    if (entry === null || entry.length === 0) break
    assert.strictEqual(r.byte(), 0x42, `EOR marker after the record at ${offset}`)
    records.push({ offset, checksum, entry })
  }
  // Everything after the last record is preallocation padding.
  const nonZero = file.subarray(r.pos).findIndex((b) => b !== 0)
  assert.strictEqual(nonZero, -1, `non-zero padding at ${r.pos + nonZero}`)
  return { header, records }
}

/** Sub-txn record bytes (what a MultiTxn's `buffer data` holds), via our writer. */
const subBytes = (t: T.Txn): Uint8Array => encodeWith(T.writeTxn, t)

const checkLog = (file: string, expected: Record<string, any>): number => {
  const { header, records } = walkLog(V.readVector(file))
  assert.deepStrictEqual({ magic: header.magic, version: header.version, dbid: Number(header.dbid) }, expected["fileHeader"])
  const txns = expected["txns"] as Array<Record<string, any>>
  assert.strictEqual(records.length, txns.length, `${file}: record count`)
  records.forEach((rec, i) => {
    const want = txns[i]!
    const where = `${file} #${i} ${want["summary"]}`
    assert.strictEqual(rec.offset, want["offset"], where)
    assert.strictEqual(rec.entry.length, want["len"], where)
    assert.strictEqual(rec.checksum, want["adler32"], where)
    assert.strictEqual(adler32(rec.entry), rec.checksum, `${where}: checksum`)

    const e = T.readTxnEntry(rec.entry)
    assert.deepStrictEqual(
      { hdr: V.txnHeader(e.header), txn: V.txnRecord(e.txn, subBytes), digest: V.txnDigest(e.digest) },
      V.canonical({ hdr: want["hdr"], txn: want["txn"], digest: want["digest"] }),
      where
    )
    assert.strictEqual(V.toHex(encodeWith(T.writeTxnEntry, e)), V.toHex(rec.entry), `${where}: re-encoded bytes differ`)
  })
  return records.length
}

describe("txn-log golden vectors", () => {
  it("datadir-standalone: log.1 (57 txns) and log.3a (4 txns) decode and re-encode exactly", () => {
    const json = V.readJson("datadir-standalone.json")["logs"] as Record<string, any>
    assert.deepStrictEqual(Object.keys(json).sort(), ["log.1", "log.3a"])
    const n1 = checkLog("datadir-standalone/version-2/log.1", json["log.1"])
    const n3a = checkLog("datadir-standalone/version-2/log.3a", json["log.3a"])
    assert.deepStrictEqual([n1, n3a], [57, 4])
  })

  it("datadir-ensemble: every log of s1..s4 (69 txns) decodes and re-encodes exactly", () => {
    const counts: Record<string, number> = {}
    for (const s of ["s1", "s2", "s3", "s4"]) {
      const logs = V.readJson(`datadir-ensemble/${s}.json`)["logs"] as Record<string, any>
      for (const [name, want] of Object.entries(logs)) {
        counts[`${s}/${name}`] = checkLog(`datadir-ensemble/${s}/version-2/${name}`, want)
      }
    }
    assert.deepStrictEqual(counts, {
      "s1/log.20000000a": 3,
      "s2/log.100000001": 22,
      "s3/log.100000001": 10,
      "s3/log.200000001": 12,
      "s4/log.100000001": 22
    })
  })

  it("a failed multi from ZooKeeper 3.8's log: the sub-txn before the failing one is type error with its SetDataTxn body", () => {
    // Logged by a ZooKeeper 3.8 follower (npm run chaos): multi [setData /k3 "p2000.3" v2, setData on a missing node].
    const hex =
      "020000091e360000000000050000000100000010000001a253175ccf0000000e00000002ffffffff00000016000000032f6b330000000770323030302e3300000002" +
      "ffffffff00000004ffffff9b000000020000000297fcb124"
    const entry = V.fromHex(hex)
    const e = T.readTxnEntry(entry)
    assert.strictEqual(e.txn.type, 14)
    if (e.txn.type !== 14) return
    assert.deepStrictEqual(e.txn.txns.map((t) => (t.type === -1 ? t.err : null)), [3, -101])
    assert.deepStrictEqual(e.digest, { version: 2, hi: 2, lo: 0x97fcb124 })
    assert.strictEqual(V.toHex(encodeWith(T.writeTxnEntry, e)), hex)
  })

  it("every txn type in the fixtures is covered", () => {
    const seen = new Set<number>()
    const subSeen = new Set<number>()
    const files = [
      "datadir-standalone/version-2/log.1",
      "datadir-standalone/version-2/log.3a",
      "datadir-ensemble/s2/version-2/log.100000001",
      "datadir-ensemble/s3/version-2/log.200000001"
    ]
    for (const f of files) {
      for (const rec of walkLog(V.readVector(f)).records) {
        const e = T.readTxnEntry(rec.entry)
        seen.add(e.header.type)
        if (e.txn.type === 14) for (const s of e.txn.txns) subSeen.add(s.type)
      }
    }
    assert.deepStrictEqual([...seen].sort((a, b) => a - b), [-11, -10, -1, 1, 2, 5, 7, 14, 15, 19, 21])
    assert.deepStrictEqual([...subSeen].sort((a, b) => a - b), [-1, 1, 2, 5, 13])
  })
})
