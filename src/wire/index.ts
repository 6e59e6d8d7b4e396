/** The wire layer: Jute primitives, every client/txn record, client-port framing, and their Schemas. */
export * as ClientRecords from "./ClientRecords.js"
export * as Codes from "./Codes.js"
export * as Frame from "./Frame.js"
export * as Jute from "./Jute.js"
export * as Schemas from "./Schemas.js"
export * as TxnRecords from "./TxnRecords.js"
export { WireError } from "./WireError.js"
