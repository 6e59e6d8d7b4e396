/**
 * Fuzzing the decoders that face the network and the disk: captured frames and txn entries are
 * flipped, truncated, extended, spliced and have their length fields smashed, and pure random
 * bytes are thrown in too. Every decoder must either return a value or throw WireError — never a
 * RangeError/TypeError/… — and must not produce (hence allocate) more than its input justifies.
 * Runs scale with EZK_FUZZ_RUNS (default 3000 per property).
 */
import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck as fc, ParseResult, Schema } from "effect"
import { SnapStreamDecoder } from "../../src/storage/SnapStream.js"
import * as C from "../../src/wire/ClientRecords.js"
import { Op } from "../../src/wire/Codes.js"
import * as E from "../../src/wire/Election.js"
import { FrameSplitter } from "../../src/wire/Frame.js"
import { decodeWith, JuteReader } from "../../src/wire/Jute.js"
import * as Q from "../../src/wire/Quorum.js"
import * as S from "../../src/wire/Schemas.js"
import * as T from "../../src/wire/TxnRecords.js"
import { WireError } from "../../src/wire/WireError.js"
import * as V from "./vectors.js"

const numRuns = Number(process.env["EZK_FUZZ_RUNS"] ?? 3000)

// ---------------------------------------------------------------------------------------------
// Corpus: real payloads from the captures

interface Corpus {
  readonly connectRequests: Array<Uint8Array>
  readonly connectResponses: Array<Uint8Array>
  readonly requests: Array<Uint8Array>
  readonly replies: Array<{ readonly payload: Uint8Array; readonly op: number }>
  readonly txnEntries: Array<Uint8Array>
  readonly streams: Array<Uint8Array>
}

const loadCorpus = (): Corpus => {
  const corpus: Corpus = { connectRequests: [], connectResponses: [], requests: [], replies: [], txnEntries: [], streams: [] }
  const files = ["client_session.jsonl", "client_edge.jsonl", "four_letter_words.jsonl"]
  for (const file of files) {
    const started = new Set<string>()
    const ops = new Map<string, number>()
    const streams = new Map<string, Array<Uint8Array>>()
    for (const line of V.readJsonl(file)) {
      const d = line["decoded"] as Record<string, any> | null
      if (d === null || "fourLetterWord" in d || "text" in d) continue
      const bytes = V.fromHex(line["hex"] as string)
      const payload = bytes.subarray(4)
      const fromClient = (line["flow"] as string).startsWith("client->")
      const key = `${line["conn"]}/${fromClient ? "c" : "s"}`
      streams.set(key, [...(streams.get(key) ?? []), bytes])
      if (!started.has(key)) {
        started.add(key)
        ;(fromClient ? corpus.connectRequests : corpus.connectResponses).push(payload)
        continue
      }
      if (fromClient) {
        corpus.requests.push(payload)
        ops.set(`${line["conn"]}/${d["xid"]}`, d["type"])
      } else {
        corpus.replies.push({ payload, op: ops.get(`${line["conn"]}/${d["xid"]}`) ?? Op.notification })
      }
    }
    for (const s of streams.values()) corpus.streams.push(Uint8Array.from(Buffer.concat(s)))
  }
  for (const log of ["datadir-standalone/version-2/log.1", "datadir-ensemble/s2/version-2/log.100000001"]) {
    const r = new JuteReader(V.readVector(log), 16)
    for (;;) {
      r.long()
      const entry = r.buffer()
      if (entry === null || entry.length === 0) break
      r.byte()
      corpus.txnEntries.push(entry)
    }
  }
  return corpus
}

const corpus = loadCorpus()

// ---------------------------------------------------------------------------------------------
// Mutations

const cat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** Values that make length and count fields interesting. */
const nastyInts = [0, 1, -1, -2, 0x7fffffff, -0x80000000, 0xfffff, 0x100000, 0x1ffffe, 0x1fffff, 255, 256, 65535]

const mutate = (seed: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.constant(seed),
    // Flip or overwrite a few bytes.
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((edits) => {
      const b = seed.slice()
      for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v
      return b
    }),
    // Truncate.
    fc.nat().map((n) => seed.slice(0, n % (seed.length + 1))),
    // Extend with random bytes.
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => cat(seed, tail)),
    // Smash a 4-byte field (lengths, counts, opcodes) with a nasty value.
    fc.tuple(fc.nat(), fc.constantFrom(...nastyInts)).map(([at, v]) => {
      const b = seed.slice()
      if (b.length >= 4) new DataView(b.buffer).setInt32(at % (b.length - 3), v)
      return b
    }),
    // Cut out or duplicate a slice.
    fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.boolean()).map(([at, n, dup]) => {
      const i = seed.length === 0 ? 0 : at % seed.length
      const piece = seed.subarray(i, i + n)
      return dup ? cat(cat(seed.subarray(0, i + piece.length), piece), seed.subarray(i + piece.length)) : cat(seed.subarray(0, i), seed.subarray(i + n))
    })
  )

/** Mutations of the given seeds, and pure random bytes. */
const inputs = (seeds: ReadonlyArray<Uint8Array>): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...seeds).chain(mutate), weight: 4 },
    { arbitrary: fc.uint8Array({ maxLength: 200 }), weight: 1 }
  )

// ---------------------------------------------------------------------------------------------
// Oracles

/** Roughly how many bytes a decoded value stands for; must never exceed the input's size. */
const footprint = (v: unknown): number => {
  if (v instanceof Uint8Array) return v.length
  if (typeof v === "string") return v.length
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + 1 + footprint(x), 0)
  if (v !== null && typeof v === "object") return Object.values(v).reduce((n: number, x) => n + footprint(x), 0)
  return 0
}

/** Runs a decoder: a value (no bigger than its input) or a WireError; anything else fails. */
const decodesOrWireError = (input: Uint8Array, decode: (b: Uint8Array) => unknown): void => {
  let value: unknown
  try {
    value = decode(input)
  } catch (e) {
    if (e instanceof WireError) return
    throw new Error(`non-WireError from ${Buffer.from(input).toString("hex")}: ${String(e)}`, { cause: e })
  }
  assert.isAtMost(footprint(value), input.length, "decoded more than the input holds")
}

const allOps = [...new Set(Object.values(Op)), 0, 10, 23, 99, 999, -100]

const decodeRequestFrame = (b: Uint8Array) => {
  const r = new JuteReader(b)
  const header = C.readRequestHeader(r)
  const request = C.readRequest(r, header.type)
  if (request !== null) r.done()
  return { header, request }
}

const decodeReplyFrame = (op: number) => (b: Uint8Array) => {
  const r = new JuteReader(b)
  const header = C.readReplyHeader(r)
  const body = header.xid === -1 ? C.readWatcherEvent(r) : header.err === 0 ? C.readResponse(r, op) : null
  r.done()
  return { header, body }
}

const fromBytesSchemas = [
  S.ConnectRequestFromBytes,
  S.ConnectResponseFromBytes,
  S.ClientRequestFromBytes,
  S.ReplyHeaderFromBytes,
  S.WatcherEventFromBytes,
  S.StatFromBytes,
  S.TxnEntryFromBytes
] as ReadonlyArray<Schema.Schema<unknown, Uint8Array>>

// ---------------------------------------------------------------------------------------------

describe("fuzz: decoders return a value or throw WireError", () => {
  it("corpus is the captured traffic", () => {
    assert.isAtLeast(corpus.requests.length, 80)
    assert.isAtLeast(corpus.replies.length, 80)
    assert.isAtLeast(corpus.connectRequests.length, 12)
    assert.isAtLeast(corpus.txnEntries.length, 79)
  })

  it.prop("request frames (header + body of the header's opcode)", [inputs(corpus.requests)], ([b]) => {
    decodesOrWireError(b, decodeRequestFrame)
  }, { fastCheck: { numRuns } })

  it.prop("request bodies read as any opcode", [inputs(corpus.requests), fc.constantFrom(...allOps)], ([b, op]) => {
    decodesOrWireError(b, (x) => C.readRequest(new JuteReader(x, Math.min(8, x.length)), op))
  }, { fastCheck: { numRuns } })

  it.prop("ConnectRequest / ConnectResponse", [inputs([...corpus.connectRequests, ...corpus.connectResponses])], ([b]) => {
    decodesOrWireError(b, (x) => decodeWith(C.readConnectRequest, x))
    decodesOrWireError(b, (x) => decodeWith(C.readConnectResponse, x))
  }, { fastCheck: { numRuns } })

  it.prop(
    "reply frames (header + response of any opcode, or a WatcherEvent)",
    [inputs(corpus.replies.map((r) => r.payload)), fc.constantFrom(...allOps, ...corpus.replies.map((r) => r.op))],
    ([b, op]) => {
      decodesOrWireError(b, decodeReplyFrame(op))
      decodesOrWireError(b, (x) => decodeWith(C.readMultiResponse, x.subarray(Math.min(16, x.length))))
    },
    { fastCheck: { numRuns } }
  )

  it.prop("txn entries (log records and PROPOSAL payloads)", [inputs(corpus.txnEntries)], ([b]) => {
    decodesOrWireError(b, T.readTxnEntry)
  }, { fastCheck: { numRuns } })

  it.prop("FromBytes schemas never throw: Right or a ParseError", [inputs([...corpus.requests, ...corpus.txnEntries])], ([b]) => {
    for (const schema of fromBytesSchemas) {
      const r = Schema.decodeEither(schema)(b)
      if (Either.isLeft(r)) {
        assert.isTrue(ParseResult.isParseError(r.left), `not a ParseError: ${String(r.left)}`)
      } else {
        // A value it accepted encodes back to bytes that decode to the same value.
        const again = Schema.encodeEither(schema)(r.right).pipe(Either.flatMap(Schema.decodeEither(schema)))
        assert.deepStrictEqual(again, Either.right(r.right))
      }
    }
  }, { fastCheck: { numRuns: Math.ceil(numRuns / 3) } })
})

describe("fuzz: frame splitter", () => {
  it.prop(
    "mutated client streams, cut anywhere: frames within the limit or FrameTooLarge, never more buffered",
    [
      inputs(corpus.streams),
      fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 10 }),
      fc.constantFrom(16, 100, 0xfffff),
      fc.boolean()
    ],
    ([stream, cuts, maxFrame, words]) => {
      const s = new FrameSplitter({ maxFrame, fourLetterWords: words })
      let pos = 0
      try {
        for (let i = 0; pos < stream.length; i++) {
          const n = cuts[i % cuts.length]!
          for (const f of s.feed(stream.subarray(pos, pos + n))) {
            assert.isAtMost(f.length, maxFrame)
            decodesOrWireError(f, decodeRequestFrame)
          }
          pos += n
          assert.isAtMost(s.buffered, maxFrame + 4)
        }
      } catch (e) {
        if (!(e instanceof WireError)) throw e
        assert.strictEqual(e.reason, "FrameTooLarge")
      }
    },
    { fastCheck: { numRuns } }
  )
})

// ---------------------------------------------------------------------------------------------
// Quorum, election and SNAP-stream decoders (quorum.md §1, §3, §4.4)

const ensemble = V.readJsonl("ensemble.jsonl").filter((l) => l["channel"] !== "client")
const quorumPackets = ensemble.filter((l) => l["decoded"]["record"] === "QuorumPacket").map((l) => V.fromHex(l["hex"]))
const packetData = quorumPackets.map((b) => Q.decodeQuorumPacket(b).data).filter((d): d is Uint8Array => d !== null)
const electionFrames = ensemble.filter((l) => l["decoded"]["record"] === "Notification").map((l) => V.fromHex(l["hex"]))
const initialMessages = ensemble.filter((l) => l["decoded"]["record"] === "InitialMessage").map((l) => V.fromHex(l["hex"]))
const snapStream = V.fromHex(ensemble.find((l) => l["decoded"]["record"] === "SnapshotStream")!["hex"])

/** Every decoder of a packet's data, whatever the packet's type. */
const dataDecoders: ReadonlyArray<(b: Uint8Array) => unknown> = [
  Q.readLearnerInfo,
  Q.readIntData,
  Q.readLongData,
  Q.readProposal,
  Q.readInformAndActivate,
  Q.readSessionTouches,
  Q.readRevalidateRequest,
  Q.readRevalidateReply,
  Q.readConfigText,
  Q.readForwardedRequest
]

/** Feeds `bytes` in chunks to `feed` until it is done; only WireError may escape, and it ends the stream. */
const feedChunks = (bytes: Uint8Array, cuts: ReadonlyArray<number>, feed: (chunk: Uint8Array) => boolean): void => {
  try {
    for (let pos = 0, i = 0; pos < bytes.length; i++) {
      const n = cuts[i % cuts.length]!
      if (feed(bytes.subarray(pos, pos + n))) return
      pos += n
    }
  } catch (e) {
    if (!(e instanceof WireError)) throw new Error(`non-WireError from ${Buffer.from(bytes).toString("hex").slice(0, 400)}: ${String(e)}`, { cause: e })
  }
}

const cuts = fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 8 })

describe("fuzz: quorum and election decoders return a value or throw WireError", () => {
  it("corpus is the captured ensemble traffic", () => {
    assert.isAtLeast(quorumPackets.length, 349)
    assert.isAtLeast(electionFrames.length, 69)
    assert.strictEqual(snapStream.length, 1074)
  })

  it.prop("QuorumPacket and every packet-data layout", [inputs([...quorumPackets, ...packetData])], ([b]) => {
    decodesOrWireError(b, Q.decodeQuorumPacket)
    for (const decode of dataDecoders) decodesOrWireError(b, decode)
  }, { fastCheck: { numRuns } })

  it.prop("notifications (any length) and initial messages", [inputs([...electionFrames.map((f) => f.subarray(4)), ...initialMessages])], ([b]) => {
    decodesOrWireError(b, E.decodeNotification)
    decodesOrWireError(b, (x) => E.parseInitialMessage(x))
    decodesOrWireError(b, (x) => decodeWith(E.readInitialMessage, x))
  }, { fastCheck: { numRuns } })

  it.prop("QuorumPacketReader over mutated packet streams, cut anywhere", [inputs([cat(quorumPackets[0]!, quorumPackets[1]!), ...quorumPackets]), cuts, fc.constantFrom(32, 200, Q.DEFAULT_MAX_PACKET)], ([stream, cs, max]) => {
    const reader = new Q.QuorumPacketReader(max)
    feedChunks(stream, cs, (chunk) => {
      reader.feed(chunk)
      assert.isAtMost(reader.buffered, Math.max(max, chunk.length) + chunk.length)
      if (reader.awaitingSnapshot) reader.takeRest()
      return false
    })
  }, { fastCheck: { numRuns } })

  it.prop("ElectionStreamReader over mutated handshakes and frames", [inputs([cat(initialMessages[0]!, electionFrames[0]!), ...electionFrames]), cuts, fc.boolean()], ([stream, cs, handshake]) => {
    const reader = new E.ElectionStreamReader({ handshake })
    feedChunks(stream, cs, (chunk) => {
      for (const f of reader.feed(chunk)) decodesOrWireError(f, E.decodeNotification)
      return false
    })
  }, { fastCheck: { numRuns } })

  it.prop("SnapStreamDecoder over mutated SNAP streams", [fc.oneof(mutate(snapStream), fc.uint8Array({ maxLength: 200 })), cuts], ([stream, cs]) => {
    const decoder = new SnapStreamDecoder(0x200000009, { extendedTypes: true, digestEnabled: true }, 1 << 16)
    feedChunks(stream, cs, (chunk) => {
      const out = decoder.feed(chunk)
      if (out === null) return false
      assert.isAtMost(out.consumed, stream.length)
      assert.isAtMost(out.nodeCount, stream.length / 72)
      return true
    })
  }, { fastCheck: { numRuns } })

  it.prop("quorum FromBytes schemas never throw: Right or a ParseError", [inputs([...quorumPackets, ...packetData, ...electionFrames.map((f) => f.subarray(4))])], ([b]) => {
    for (const schema of quorumSchemas) {
      const r = Schema.decodeEither(schema)(b)
      assert.isTrue(Either.isLeft(r) || Either.isRight(r))
    }
  }, { fastCheck: { numRuns: Math.ceil(numRuns / 3) } })
})

const quorumSchemas = [
  S.QuorumPacketFromBytes,
  S.LearnerInfoFromBytes,
  S.SessionTouchesFromBytes,
  S.ForwardedRequestFromBytes,
  S.NotificationFromBytes,
  S.InitialMessageFromBytes
] as ReadonlyArray<Schema.Schema<unknown, Uint8Array>>
