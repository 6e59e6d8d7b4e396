/**
 * Schema declarations of the wire records (STYLE §2.5): each record's *shape* as an
 * `effect/Schema`, plus `xxxFromBytes` transforms that run the very same hand-written Jute
 * readers/writers as the hot path. Use them at cold boundaries (config, admin, tests, fuzzing);
 * never per packet (STYLE §2.10).
 *
 * Representation (TEAM.md): zxids, times and other longs are JS numbers (exact within ±2^53);
 * session ids and ephemeral owners are bigints (all 64 bits). The schema types are subtypes of
 * the interfaces in ClientRecords.ts / TxnRecords.ts: they additionally pin what the codecs
 * imply (e.g. `ttl = -1` unless createTTL), so `decode(encode(x)) = x` holds for every value.
 *
 * The declarations live by protocol: SchemaPrimitives (Jute primitives, `fromBytes`),
 * ClientSchemas, TxnSchemas and QuorumSchemas. This module gathers them into one namespace.
 */
export * from "./ClientSchemas.js"
export * from "./QuorumSchemas.js"
export * from "./SchemaPrimitives.js"
export * from "./TxnSchemas.js"
