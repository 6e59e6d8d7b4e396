/**
 * The Jute primitives as Schemas (int, long, ustring, buffer) and the two ways a record's Schema is
 * tied to its hand-written codec: `fromBytes` (a JuteReader/JuteWriter pair) and `fromPayload` (a
 * whole-payload decoder/encoder). The records themselves are in ClientSchemas, TxnSchemas and
 * QuorumSchemas; Schemas.ts gathers them.
 */
import { type Arbitrary, ParseResult, Schema, type SchemaAST } from "effect"
import { decodeWith, encodeWith, type JuteReader, type JuteWriter } from "./Jute.js"
import { WireError } from "./WireError.js"

/** Jute `int`: a signed 32-bit integer. */
export const Int32 = Schema.Int.pipe(Schema.between(-0x80000000, 0x7fffffff)).annotations({ identifier: "Int32" })

/** Jute `long` carried as a JS number (zxids, times, ttl, versions of configs): exact within ±(2^53-1). */
export const Long = Schema.Int.pipe(Schema.between(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).annotations({
  identifier: "Long",
  // Mostly zxid-shaped values (small epoch · 2^32 + counter), plus the extremes.
  arbitrary: () => (fc) =>
    fc.oneof(
      fc.integer({ min: -1, max: 1000 }),
      fc.tuple(fc.integer({ min: 0, max: 0x1fffff }), fc.nat()).map(([epoch, counter]) => epoch * 4294967296 + counter),
      fc.maxSafeInteger()
    )
})

const TWO_63 = 2 ** 63

/**
 * A client-chosen Jute `long` read with `JuteReader.looseLong` (lastZxidSeen, a request's ttl,
 * curConfigId, relativeZxid): any integer-valued number in [-2^63, 2^63]; beyond ±2^53 it is the
 * nearest double of the 64-bit value, and 2^63 stands for Long.MAX_VALUE (written saturated).
 */
export const LooseLong = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= -TWO_63 && n <= TWO_63, {
    message: () => "an integer within the 64-bit range"
  })
).annotations({
  identifier: "LooseLong",
  arbitrary: () => (fc) =>
    fc.oneof(
      { arbitrary: fc.maxSafeInteger(), weight: 3 },
      { arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(Number), weight: 1 },
      { arbitrary: fc.constantFrom(0x7fff000000000000, TWO_63, -TWO_63, -1), weight: 1 }
    )
})

/** Jute `long` carried as a bigint (session ids, ephemeral owners): all 64 bits. */
export const Int64 = Schema.BigIntFromSelf.pipe(Schema.betweenBigInt(-(2n ** 63n), 2n ** 63n - 1n)).annotations({
  identifier: "Int64"
})

/** An unsigned 32-bit half of a 64-bit digest. */
export const UInt32 = Schema.Int.pipe(Schema.between(0, 0xffffffff)).annotations({ identifier: "UInt32" })

const stringArbitrary: Arbitrary.LazyArbitrary<string> = (fc) =>
  // ASCII most of the time, sometimes any well-formed Unicode (lone surrogates cannot round-trip
  // through UTF-8, and ZooKeeper paths cannot contain them).
  fc.oneof({ arbitrary: fc.string(), weight: 3 }, { arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }), weight: 1 })

/** Jute `ustring` that is never null on the wire in practice (paths, schemes, ids). */
export const JuteString = Schema.String.annotations({ identifier: "JuteString", arbitrary: () => stringArbitrary })

/** Jute `buffer` (non-null). */
export const Buffer = Schema.Uint8ArrayFromSelf
/** Jute `buffer` where `-1` (null) is meaningful, e.g. znode data. */
export const NullableBuffer = Schema.NullOr(Schema.Uint8ArrayFromSelf)

/** A Jute vector of strings. */
export const Strings = Schema.Array(JuteString)

/** A WireError becomes a ParseResult.Type issue; any other exception is a bug and is rethrown. */
export const parseBytes = <A>(decode: () => A, ast: SchemaAST.AST, bytes: Uint8Array) => {
  try {
    return ParseResult.succeed(decode())
  } catch (e) {
    if (e instanceof WireError) return ParseResult.fail(new ParseResult.Type(ast, bytes, e.message))
    throw e
  }
}

/**
 * `Schema.transformOrFail` from `Uint8ArrayFromSelf` to `to`, decoding with `read` (which must
 * consume every byte) and encoding with `write`. Non-strict: the decoded value is validated by
 * `to`, so a reader producing something outside the declared shape is reported, not trusted.
 */
export const fromBytes = <A, I>(
  to: Schema.Schema<A, I>,
  read: (r: JuteReader) => unknown,
  write: (w: JuteWriter, a: I) => void
): Schema.Schema<A, Uint8Array> =>
  Schema.transformOrFail(Schema.Uint8ArrayFromSelf, to, {
    strict: false,
    decode: (bytes, _, ast) => parseBytes(() => decodeWith(read, bytes), ast, bytes),
    encode: (a) => ParseResult.succeed(encodeWith(write, a as I))
  })

/** Like `fromBytes` for records decoded from a whole payload rather than a JuteReader. */
export const fromPayload = <A, I>(to: Schema.Schema<A, I>, decode: (b: Uint8Array) => unknown, encode: (a: I) => Uint8Array): Schema.Schema<A, Uint8Array> =>
  Schema.transformOrFail(Schema.Uint8ArrayFromSelf, to, {
    strict: false,
    decode: (bytes, _, ast) => parseBytes(() => decode(bytes), ast, bytes),
    encode: (a) => ParseResult.succeed(encode(a as I))
  })

/** Compile-time check that a schema's type fits a codec's interface (used in the `_…Checks` types). */
export type Assignable<A extends B, B> = A
