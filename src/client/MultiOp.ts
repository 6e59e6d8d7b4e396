/**
 * Builders for the ops of `multi` (opcode 14, atomic writes) and `multiRead` (opcode 22,
 * independent reads), and the shapes of their results (client.md §7).
 *
 * ```ts
 * yield* zk.multi([MultiOp.create("/a", "x"), MultiOp.check("/b", 3), MultiOp.delete("/c")])
 * ```
 */
import type { Option } from "effect"
import { CreateMode } from "../wire/Codes.js"
import type { ACL, Stat } from "../wire/ClientRecords.js"
import { openAclUnsafe } from "./Acl.js"

/** Node data as callers give it: bytes, a string (sent as UTF-8), or null (sent as length -1). */
export type Data = Uint8Array | string | null

/** Options of a create, shared by `ZooKeeper.create` and `MultiOp.create`. */
export interface CreateOptions {
  /** CreateMode flags (client.md §10); default PERSISTENT. */
  readonly mode?: number
  /** Default world:anyone ALL (OPEN_ACL_UNSAFE). */
  readonly acl?: ReadonlyArray<ACL>
  /** Time to live in ms; sends createTTL. Needed with the *_WITH_TTL modes. */
  readonly ttl?: number
}

/** A write op of `multi`. */
export type WriteOp =
  | {
    readonly _tag: "Create"
    readonly path: string
    readonly data: Data
    readonly mode: number
    readonly acl: ReadonlyArray<ACL>
    readonly ttl: number | undefined
  }
  | { readonly _tag: "Delete"; readonly path: string; readonly version: number }
  | { readonly _tag: "SetData"; readonly path: string; readonly data: Data; readonly version: number }
  | { readonly _tag: "Check"; readonly path: string; readonly version: number }

/** A read op of `multiRead`. */
export type ReadOp =
  | { readonly _tag: "GetData"; readonly path: string }
  | { readonly _tag: "GetChildren"; readonly path: string }

/** Result of one write op of a successful `multi`. */
export type WriteResult =
  | {
    readonly _tag: "Create"
    readonly path: string
    /** Present when the server answers with create2 (containers, TTL nodes; 3.8.2+ for all). */
    readonly stat: Option.Option<Stat>
  }
  | { readonly _tag: "Delete" }
  | { readonly _tag: "SetData"; readonly stat: Stat }
  | { readonly _tag: "Check" }

/** Result of one read op of `multiRead`. */
export type ReadResult =
  | { readonly _tag: "GetData"; readonly data: Uint8Array | null; readonly stat: Stat }
  | { readonly _tag: "GetChildren"; readonly children: ReadonlyArray<string> }

/** Creates a node as part of a multi. */
export const create = (path: string, data: Data = new Uint8Array(0), options: CreateOptions = {}): WriteOp => ({
  _tag: "Create",
  path,
  data,
  mode: options.mode ?? CreateMode.PERSISTENT,
  acl: options.acl ?? openAclUnsafe,
  ttl: options.ttl
})

const remove = (path: string, version = -1): WriteOp => ({ _tag: "Delete", path, version })
/** Deletes a node (version -1 = any) as part of a multi. */
export { remove as delete }

/** Sets a node's data (version -1 = any) as part of a multi. */
export const setData = (path: string, data: Data, version = -1): WriteOp => ({ _tag: "SetData", path, data, version })

/** Fails the whole multi unless the node exists with this version (-1 = any). */
export const check = (path: string, version: number): WriteOp => ({ _tag: "Check", path, version })

/** Reads a node's data and stat as part of a multiRead. */
export const getData = (path: string): ReadOp => ({ _tag: "GetData", path })

/** Lists a node's children as part of a multiRead. */
export const getChildren = (path: string): ReadOp => ({ _tag: "GetChildren", path })
