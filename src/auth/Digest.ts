/**
 * The `digest` scheme and the AuthPacket (opcode 100) provider registry (client.md §11.2).
 *
 * Mirrors ZooKeeper 3.8's ProviderRegistry defaults: only `digest` and `ip` accept AuthPackets;
 * `world`, `auth`, `super`, `sasl` (SASL runs over opcode 102) and any unknown scheme fail with
 * AuthFailed, after which the server closes the connection.
 */
import { createHash } from "node:crypto"
import { Context, Layer } from "effect"
import type { Id } from "../wire/ClientRecords.js"
import { ipIdFromRemoteAddress } from "./Acl.js"

/**
 * DigestAuthenticationProvider.generateDigest: `user:base64(sha1("user:password"))`, where user is
 * the text before the first ':' (the whole text when there is none) and the hash covers the whole
 * UTF-8 string. `alice:secret` → `alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=`.
 */
export const digestId = (idPassword: string): string => {
  const colon = idPassword.indexOf(":")
  const user = colon < 0 ? idPassword : idPassword.slice(0, colon)
  return `${user}:${createHash("sha1").update(idPassword, "utf8").digest("base64")}`
}

/** The `digest` ACL id for a user and password (what `addauth digest user:password` yields). */
export const digestIdOf = (user: string, password: string): string => digestId(`${user}:${password}`)

/** The value for `zookeeper.DigestAuthenticationProvider.superDigest` granting super to `super:<password>`. */
export const superDigestFor = (password: string): string => digestIdOf("super", password)

/** A parsed superDigest setting. */
export interface SuperDigest {
  readonly user: string
  /** base64 SHA-1, 28 characters. */
  readonly hash: string
  /** The full `user:hash` string that a digest auth must produce. */
  readonly id: string
}

/**
 * Validate a superDigest setting (`super:<base64 sha1>`). ZooKeeper itself compares the raw
 * property with the computed id, so a malformed value silently grants nobody; null here lets the
 * config layer report it instead.
 */
export const parseSuperDigest = (value: string): SuperDigest | null => {
  const colon = value.indexOf(":")
  if (colon <= 0 || value.indexOf(":", colon + 1) >= 0) return null
  const hash = value.slice(colon + 1)
  if (!/^[A-Za-z0-9+/]{27}=$/.test(hash)) return null
  return { user: value.slice(0, colon), hash, id: value }
}

// ---------------------------------------------------------------------------------------------
// AuthProviders

/** The outcome of an AuthPacket: ids to add to the connection, or AuthFailed. */
export type AuthResult =
  | {
    readonly ok: true
    /** Ids to add to the connection (the server skips ones it already holds). */
    readonly ids: ReadonlyArray<Id>
    /**
     * The connection becomes super (bypasses all ACLs). ZooKeeper also stores a `super:""` id in
     * the connection's auth info; keep that as a flag so whoAmI and `auth` expansion ignore it.
     */
    readonly isSuper: boolean
  }
  | { readonly ok: false }

/** Configuration of the AuthPacket providers. */
export interface AuthProvidersOptions {
  /** `zookeeper.DigestAuthenticationProvider.superDigest`, e.g. `super:g9oN2HttPfn8MMWJZ2r45Np/LIA=`. */
  readonly superDigest?: string | undefined
}

/** Handles AuthPackets (opcode 100, xid -4) by scheme. */
export interface AuthProvidersShape {
  /** Schemes accepted in an AuthPacket. */
  readonly schemes: ReadonlyArray<string>
  /** Authenticate one AuthPacket; `remoteAddress` is the socket's peer address. */
  readonly authenticate: (scheme: string, auth: Uint8Array, remoteAddress: string) => AuthResult
}

/** The AuthPacket provider registry used by the server's connection handler. */
export class AuthProviders extends Context.Tag("zk/auth/AuthProviders")<AuthProviders, AuthProvidersShape>() {}

const failed: AuthResult = { ok: false }
const utf8 = new TextDecoder("utf-8")

/**
 * Build the registry. digest: always succeeds (any bytes, decoded as UTF-8 – Java uses the platform
 * charset), super when the computed id equals superDigest. ip: always succeeds with the remote
 * address (the id is already on every connection, so this is a no-op in practice).
 */
export const make = (options: AuthProvidersOptions = {}): AuthProvidersShape => {
  const superDigest = options.superDigest
  return {
    schemes: ["digest", "ip"],
    authenticate: (scheme, auth, remoteAddress) => {
      switch (scheme) {
        case "digest": {
          const id = digestId(utf8.decode(auth))
          return { ok: true, ids: [{ scheme: "digest", id }], isSuper: superDigest !== undefined && id === superDigest }
        }
        case "ip":
          return { ok: true, ids: [{ scheme: "ip", id: ipIdFromRemoteAddress(remoteAddress) }], isSuper: false }
        default:
          return failed
      }
    }
  }
}

/** Provide AuthProviders from options (e.g. the superDigest of ZkConfig). */
export const layer = (options: AuthProvidersOptions = {}): Layer.Layer<AuthProviders> =>
  Layer.succeed(AuthProviders, make(options))
