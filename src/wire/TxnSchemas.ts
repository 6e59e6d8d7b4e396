/**
 * Schemas of the txn records (storage.md §2.3), as logged and as carried in a PROPOSAL, with
 * `…FromBytes` transforms over the same codecs as the hot path (TxnRecords.ts).
 */
import { Arbitrary, ParseResult, Schema } from "effect"
import { ACLs } from "./ClientSchemas.js"
import { Op } from "./Codes.js"
import { encodeWith } from "./Jute.js"
import { type Assignable, fromBytes, Int32, Int64, JuteString, Long, NullableBuffer, parseBytes, Strings, UInt32 } from "./SchemaPrimitives.js"
import * as T from "./TxnRecords.js"

/** TxnHeader. */
export const TxnHeader = Schema.Struct({ clientId: Int64, cxid: Int32, zxid: Long, time: Long, type: Int32 }).annotations({
  identifier: "TxnHeader"
})

const createTxnFields = { path: JuteString, data: NullableBuffer, acl: ACLs }

/** Every txn record except MultiTxn (the sub-txns of a multi). */
export const SubTxn = Schema.Union(
  Schema.Struct({ type: Schema.Literal(Op.createSession), timeOut: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.closeSession), paths: Schema.NullOr(Strings) }),
  // parentCVersion -1 is written as a legacy CreateTxnV0 (no field) and read back as -1.
  Schema.Struct({ type: Schema.Literal(Op.create, Op.create2), ...createTxnFields, ephemeral: Schema.Boolean, parentCVersion: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.createContainer), ...createTxnFields, parentCVersion: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.createTTL), ...createTxnFields, parentCVersion: Int32, ttl: Long }),
  Schema.Struct({ type: Schema.Literal(Op.delete, Op.deleteContainer), path: JuteString }),
  Schema.Struct({ type: Schema.Literal(Op.setData, Op.reconfig), path: JuteString, data: NullableBuffer, version: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.setACL), path: JuteString, acl: ACLs, version: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.check), path: JuteString, version: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.error), err: Int32 })
).annotations({ identifier: "SubTxn" })

/** MultiTxn: a vector of sub-txns (never nested). */
export const MultiTxn = Schema.Struct({ type: Schema.Literal(Op.multi), txns: Schema.Array(SubTxn) })

/** Every txn record, keyed by txn type. */
export const Txn = Schema.Union(SubTxn, MultiTxn).annotations({ identifier: "Txn" })

/** TxnDigest: digest version and the 64-bit tree digest as two unsigned halves. */
export const TxnDigest = Schema.Struct({ version: Int32, hi: UInt32, lo: UInt32 }).annotations({ identifier: "TxnDigest" })

const makeArb = <A, I>(s: Schema.Schema<A, I>): Arbitrary.LazyArbitrary<A> => Arbitrary.makeLazy(s)

/**
 * A logged txn. Consistency is part of the shape: header.type = txn.type, error txns carry no
 * digest, and a digest has version 2 (anything else would be read back as record bytes).
 */
export const TxnEntry = Schema.Struct({ header: TxnHeader, txn: Txn, digest: Schema.NullOr(TxnDigest) })
  .pipe(
    Schema.filter(
      (e) =>
        e.header.type === e.txn.type &&
        (e.digest === null ? true : e.txn.type !== Op.error && e.digest.version === T.DIGEST_VERSION),
      { message: () => "TxnEntry: header.type must equal txn.type; digest (version 2) only on non-error txns" }
    )
  )
  .annotations({
    identifier: "TxnEntry",
    arbitrary: () => (fc) =>
      fc
        .record({
          header: makeArb(TxnHeader)(fc),
          txn: makeArb(Txn)(fc),
          digest: fc.option(fc.record({ hi: fc.nat({ max: 0xffffffff }), lo: fc.nat({ max: 0xffffffff }) }), { nil: null })
        })
        .map(({ digest, header, txn }) => ({
          header: { ...header, type: txn.type },
          txn,
          digest: txn.type === Op.error || digest === null ? null : { version: T.DIGEST_VERSION, ...digest }
        }))
  })

/** TxnHeader ⇄ its 28 bytes. */
export const TxnHeaderFromBytes = fromBytes(TxnHeader, T.readTxnHeader, T.writeTxnHeader)
/** TxnDigest ⇄ its 12 bytes. */
export const TxnDigestFromBytes = fromBytes(TxnDigest, T.readTxnDigest, T.writeTxnDigest)

/** A txnEntry buffer (header + record + optional digest), as in a log record or a PROPOSAL. */
export const TxnEntryFromBytes: Schema.Schema<typeof TxnEntry.Type, Uint8Array> = Schema.transformOrFail(
  Schema.Uint8ArrayFromSelf,
  TxnEntry,
  {
    strict: false,
    decode: (bytes, _, ast) => parseBytes(() => T.readTxnEntry(bytes), ast, bytes),
    encode: (e) => ParseResult.succeed(encodeWith(T.writeTxnEntry, e as T.TxnEntry))
  }
)

/** Not for use: compile-time checks that every txn schema's type fits its codec's interface. */
export type _TxnChecks = [
  Assignable<typeof TxnHeader.Type, T.TxnHeader>,
  Assignable<typeof Txn.Type, T.Txn>,
  Assignable<typeof TxnDigest.Type, T.TxnDigest>,
  Assignable<typeof TxnEntry.Type, T.TxnEntry>
]
