/**
 * ACL helpers (client.md §11): the ZooDefs.Ids constants and digest ids.
 */
import { createHash } from "node:crypto"
import { Perms } from "../wire/Codes.js"
import type { ACL, Id } from "../wire/ClientRecords.js"

/** `world:anyone`, matched by every connection. */
export const anyoneId: Id = { scheme: "world", id: "anyone" }

/** `auth:` — replaced by the server with every authenticated id of the connection. */
export const authIds: Id = { scheme: "auth", id: "" }

/** ZooDefs.Ids.OPEN_ACL_UNSAFE: world:anyone with all permissions; the default for creates. */
export const openAclUnsafe: ReadonlyArray<ACL> = [{ perms: Perms.ALL, id: anyoneId }]

/** ZooDefs.Ids.READ_ACL_UNSAFE: world:anyone may read. */
export const readAclUnsafe: ReadonlyArray<ACL> = [{ perms: Perms.READ, id: anyoneId }]

/** ZooDefs.Ids.CREATOR_ALL_ACL: all permissions for the creator's authenticated ids. */
export const creatorAllAcl: ReadonlyArray<ACL> = [{ perms: Perms.ALL, id: authIds }]

/** The digest id of `user:password`: `user:base64(sha1("user:password"))`, as the server derives it. */
export const digestId = (user: string, password: string): Id => ({
  scheme: "digest",
  id: `${user}:${createHash("sha1").update(`${user}:${password}`, "utf8").digest("base64")}`
})

/** An ACL entry granting `perms` to the digest user. */
export const digest = (user: string, password: string, perms: number = Perms.ALL): ACL => ({
  perms,
  id: digestId(user, password)
})
