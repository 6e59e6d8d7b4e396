/**
 * Node data typed by a Schema. Values are stored as the JSON of the Schema's encoded form
 * (`Schema.parseJson`), so any Schema whose encoded side is JSON-compatible works, and a node
 * written by another language's client can be read as long as it holds that JSON. A node whose
 * bytes do not decode fails with `DataDecodeError`, never with a defect.
 *
 * ```ts
 * const Config = Schema.Struct({ replicas: Schema.Int })
 * yield* Typed.create(zk, "/app/config", { replicas: 3 }, Config)
 * const { value, stat } = yield* Typed.getData(zk, "/app/config", Config)
 * ```
 */
import { Effect, ParseResult, Schema } from "effect"
import type { Stat } from "../wire/ClientRecords.js"
import type { CreateOptions } from "./MultiOp.js"
import type { Client } from "./ZooKeeper.js"
import type { ZkError } from "./ZooKeeperError.js"

/** A node's bytes did not decode with the Schema (or were null). */
export class DataDecodeError extends Schema.TaggedError<DataDecodeError>()("DataDecodeError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `cannot decode ${this.path}: ${this.reason}`
  }
}

/** A value did not encode with the Schema. */
export class DataEncodeError extends Schema.TaggedError<DataEncodeError>()("DataEncodeError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `cannot encode value for ${this.path}: ${this.reason}`
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true })

/** Decodes node bytes with `schema` (JSON of its encoded form). */
export const decode = <A, I>(path: string, data: Uint8Array | null, schema: Schema.Schema<A, I>): Effect.Effect<A, DataDecodeError> =>
  Effect.gen(function*() {
    if (data === null) return yield* new DataDecodeError({ path, reason: "the node holds null data" })
    const text = yield* Effect.try({
      try: () => decoder.decode(data),
      catch: () => new DataDecodeError({ path, reason: "the data is not UTF-8" })
    })
    return yield* Schema.decode(Schema.parseJson(schema))(text).pipe(
      Effect.mapError((e) => new DataDecodeError({ path, reason: ParseResult.TreeFormatter.formatErrorSync(e) }))
    )
  })

/** Encodes `value` with `schema` into the bytes `decode` reads back. */
export const encode = <A, I>(path: string, value: A, schema: Schema.Schema<A, I>): Effect.Effect<string, DataEncodeError> =>
  Schema.encode(Schema.parseJson(schema))(value).pipe(
    Effect.mapError((e) => new DataEncodeError({ path, reason: ParseResult.TreeFormatter.formatErrorSync(e) }))
  )

/** The node's value and Stat. */
export const getData = <A, I>(
  zk: Client,
  path: string,
  schema: Schema.Schema<A, I>
): Effect.Effect<{ readonly value: A; readonly stat: Stat }, ZkError | DataDecodeError> =>
  Effect.flatMap(zk.getData(path), ({ data, stat }) => Effect.map(decode(path, data, schema), (value) => ({ value, stat })))

/** Replaces the node's value; version -1 (default) matches any version. */
export const setData = <A, I>(
  zk: Client,
  path: string,
  value: A,
  schema: Schema.Schema<A, I>,
  version = -1
): Effect.Effect<Stat, ZkError | DataEncodeError> =>
  Effect.flatMap(encode(path, value, schema), (text) => zk.setData(path, text, version))

/** Creates a node holding `value`; returns the created path and Stat. */
export const create = <A, I>(
  zk: Client,
  path: string,
  value: A,
  schema: Schema.Schema<A, I>,
  options: CreateOptions = {}
): Effect.Effect<{ readonly path: string; readonly stat: Stat }, ZkError | DataEncodeError> =>
  Effect.flatMap(encode(path, value, schema), (text) => zk.createWithStat(path, text, options))
