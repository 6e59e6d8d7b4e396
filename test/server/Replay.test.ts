/**
 * Replays the client frames Apache ZooKeeper 3.8 received in the captured conversations
 * (client_session.jsonl, then client_edge.jsonl) into ServerCore, with the capture's clock, and
 * requires byte-identical replies, notifications and the same txn log as log.1.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as AuthProviders from "../../src/auth/Digest.js"
import { DataTree } from "../../src/tree/DataTree.js"
import type { Connection } from "../../src/server/Connection.js"
import { StandaloneStage } from "../../src/server/commit/Standalone.js"
import { ServerCore } from "../../src/server/ServerCore.js"
import { readResponse } from "../../src/wire/ClientRecords.js"
import { Op } from "../../src/wire/Codes.js"
import { JuteReader } from "../../src/wire/Jute.js"
import { readTxnEntry } from "../../src/wire/TxnRecords.js"
import { coreConfig as config, FakeSocket, silent } from "./fakes.js"

const vectors = new URL("../fixtures/vectors/", import.meta.url)

interface Message {
  readonly conn: number
  readonly flow: string
  readonly hex: string
  readonly decoded?: { readonly forOp?: string }
}

/** Ops whose replies hold Java hash-set order (children, auth ids): compared as sorted lists. */
const unordered = new Set(["getChildren", "getChildren2", "whoAmI"])

const splitFrames = (bytes: Buffer): Array<Buffer> => {
  const out: Array<Buffer> = []
  for (let i = 0; i + 4 <= bytes.length; ) {
    const n = bytes.readInt32BE(i)
    out.push(bytes.subarray(i, i + 4 + n))
    i += 4 + n
  }
  return out
}

/** A reply with its string list sorted, so hash order does not matter. */
const normalize = (frame: Buffer, op: string): string => {
  const r = new JuteReader(frame, 20)
  const res = readResponse(r, Op[op as keyof typeof Op])
  const sortKey = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v))
  if (res.type === "children" || res.type === "children2") return sortKey({ ...res, children: [...res.children].sort() })
  if (res.type === "whoAmI") return sortKey([...res.clientInfo].map(sortKey).sort())
  return sortKey(res)
}

const load = (name: string): Array<Message> =>
  readFileSync(new URL(name, vectors), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Message)

/** Wall-clock time of each txn in the captured log.1, by zxid. */
const txnTimes = (): Map<number, number> => {
  const json = JSON.parse(readFileSync(new URL("datadir-standalone.json", vectors), "utf8")) as {
    logs: Record<string, { txns: Array<{ hdr: { zxid: number; time: number } }> }>
  }
  return new Map(json.logs["log.1"]!.txns.map((t) => [t.hdr.zxid, t.hdr.time]))
}

describe("ServerCore replaying the captured ZooKeeper 3.8 conversation", () => {
  it("answers every frame byte for byte and logs the same txns", () => {
    const times = txnTimes()
    const logged: Array<Uint8Array> = []
    const tree = new DataTree({ extendedTypes: true, digestEnabled: true })
    let core: ServerCore | undefined
    const clock = {
      // Each txn gets the time ZooKeeper gave the txn with the same zxid.
      nowMs: () => (core === undefined ? 0 : (times.get(core.lastPreparedZxid + 1) ?? 0)),
      monotonicMs: () => 0xbf85f
    }
    const stage = new StandaloneStage({ append: (_zxid, entry) => logged.push(entry.slice()) })
    const c = (core = new ServerCore(
      config,
      tree,
      stage,
      clock,
      AuthProviders.make({ superDigest: "super:g9oN2HttPfn8MMWJZ2r45Np/LIA=" }),
      silent
    ))
    let frames = 0
    for (const file of ["client_session.jsonl", "client_edge.jsonl"]) {
      const messages = load(file)
      const conns = [...new Set(messages.map((m) => m.conn))]
      for (const n of conns) {
        const socket = new FakeSocket()
        const conn = c.accept(socket) as Connection
        const expected: Array<Message> = []
        for (const m of messages.filter((x) => x.conn === n)) {
          if (m.flow === "server->client") {
            expected.push(m)
            continue
          }
          frames++
          c.onData(conn, Buffer.from(m.hex, "hex"))
          // The "disk" is instant: commit whatever was prepared before the next client frame.
          for (let b = stage.take(); b.length > 0; b = stage.take()) c.commit(b)
        }
        const ours = splitFrames(Buffer.concat(socket.written))
        assert.strictEqual(ours.length, expected.length, `${file} conn ${n}: number of frames`)
        for (const [i, m] of expected.entries()) {
          const op = m.decoded?.forOp ?? ""
          const mine = ours[i]!
          if (unordered.has(op)) assert.strictEqual(normalize(mine, op), normalize(Buffer.from(m.hex, "hex"), op), `${file} conn ${n} frame ${i} (${op})`)
          else assert.strictEqual(mine.toString("hex"), m.hex, `${file} conn ${n} frame ${i} (${op})`)
        }
        if (conn.isOpen) c.onClosed(conn)
      }
    }
    assert.isAbove(frames, 90)
    // The txn log holds what ZooKeeper logged for the same conversation (zxids 0x1..0x35).
    const json = JSON.parse(readFileSync(new URL("datadir-standalone.json", vectors), "utf8")) as {
      logs: Record<string, { txns: Array<{ hdr: { zxid: number } ; len: number; offset: number }> }>
    }
    const log1 = readFileSync(new URL("datadir-standalone/version-2/log.1", vectors))
    const theirs = json.logs["log.1"]!.txns.filter((t) => t.hdr.zxid <= logged.length)
    assert.strictEqual(theirs.length, logged.length)
    for (const [i, t] of theirs.entries()) {
      const bytes = log1.subarray(t.offset + 12, t.offset + 12 + t.len)
      assert.deepStrictEqual(Buffer.from(logged[i]!).toString("hex"), bytes.toString("hex"), `txn 0x${t.hdr.zxid.toString(16)}: ${JSON.stringify(readTxnEntry(bytes).txn)}`)
    }
  })
})
