/**
 * Every record of the client port (client.md §3–§8), as plain data plus a reader and writer.
 * Longs that are zxids or times are JS numbers; session ids and ephemeral owners are bigints.
 *
 * They live in ClientData (Id, ACL, Stat), ClientRequests (what a client sends) and
 * ClientResponses (what the server sends); this module gathers them into one namespace.
 */
export * from "./ClientData.js"
export * from "./ClientRequests.js"
export * from "./ClientResponses.js"
