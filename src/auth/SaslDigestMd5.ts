/**
 * SASL DIGEST-MD5 (RFC 2831) server side, as ZooKeeper runs it for opcode 102 (client.md §5).
 *
 * ZooKeeper creates the JDK's DIGEST-MD5 server with protocol "zookeeper" and serverName
 * "zk-sasl-md5" (SecurityUtils.createSaslServer), so the realm offered and the digest-uri expected
 * are "zk-sasl-md5" and "zookeeper/zk-sasl-md5"; passwords come from the JAAS `Server` section's
 * `user_<name>` options (SaslServerCallbackHandler). The exchange is two round trips:
 *
 *   client: empty token            → server: challenge (realm, nonce, qop, charset, algorithm)
 *   client: digest-response        → server: `rspauth=<hex>`; authenticated as `sasl:<username>`
 *
 * The acceptance rules copy what the JDK server (which ZooKeeper uses) was observed to accept
 * and reject; see the comments in `verify`. Only qop=auth is offered: ZooKeeper never negotiates
 * integrity or privacy layers.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import type { Id } from "../wire/ClientRecords.js"

/** ZooKeeper's hard-wired DIGEST-MD5 protocol (service) name. */
export const ZK_PROTOCOL = "zookeeper"
/** ZooKeeper's hard-wired DIGEST-MD5 server name, also the only realm offered. */
export const ZK_SERVER_NAME = "zk-sasl-md5"
/** RFC 2831 §2.1.2: a digest-response longer than this is rejected. */
export const MAX_RESPONSE_BYTES = 4096

// ---------------------------------------------------------------------------------------------
// Shared DIGEST-MD5 pieces (also used by SaslDigestMd5Client)

/** One `key=value` directive; key lower-cased, value unquoted, both as latin1 "byte strings". */
export type Directive = readonly [key: string, value: string]

const isLws = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10

/**
 * Parse a DIGEST-MD5 challenge or response (RFC 2831 §7.1: `#` lists of `token = token |
 * quoted-string`, empty elements and linear white space allowed). `s` holds one char per byte
 * (latin1), so values keep their raw bytes until the charset is known. Returns an error text on
 * malformed input.
 */
export const parseDirectives = (s: string): Array<Directive> | string => {
  const out: Array<Directive> = []
  const n = s.length
  let i = 0
  while (i < n) {
    const c = s.charCodeAt(i)
    if (isLws(c) || c === 44 /* , */) {
      i++
      continue
    }
    const keyStart = i
    while (i < n && s.charCodeAt(i) !== 61 /* = */ && s.charCodeAt(i) !== 44 && !isLws(s.charCodeAt(i))) i++
    const key = s.slice(keyStart, i).toLowerCase()
    if (key === "") return "directive without a name"
    while (i < n && isLws(s.charCodeAt(i))) i++
    if (i >= n || s.charCodeAt(i) !== 61) return `missing '=' after directive '${key}'`
    i++
    while (i < n && isLws(s.charCodeAt(i))) i++
    let value = ""
    if (i < n && s.charCodeAt(i) === 34 /* " */) {
      i++
      let closed = false
      while (i < n) {
        const q = s.charCodeAt(i)
        if (q === 92 /* \ */ && i + 1 < n) {
          value += s[i + 1]
          i += 2
        } else if (q === 34) {
          i++
          closed = true
          break
        } else {
          value += s[i]
          i++
        }
      }
      if (!closed) return `unterminated quoted value of '${key}'`
    } else {
      const valueStart = i
      while (i < n && s.charCodeAt(i) !== 44 && !isLws(s.charCodeAt(i))) i++
      value = s.slice(valueStart, i)
    }
    while (i < n && isLws(s.charCodeAt(i))) i++
    if (i < n && s.charCodeAt(i) !== 44) return `unexpected character after directive '${key}'`
    out.push([key, value])
  }
  return out
}

/** Quote a value for a challenge/response (RFC 2831 quoted-string: escape `"` and `\`). */
export const quote = (value: string): string => `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`

/** Bytes of a token as a latin1 "byte string" (one char per byte) for parseDirectives. */
export const bytesToLatin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1")

/** Turn a parsed latin1 value into text: UTF-8 when `charset=utf-8` was negotiated. */
export const decodeValue = (raw: string, utf8: boolean): string => (utf8 ? Buffer.from(raw, "latin1").toString("utf8") : raw)

/**
 * Bytes hashed for username, realm and password. RFC 2831 §2.1.2.1: with charset=utf-8, a value
 * whose characters all fit ISO 8859-1 is hashed as ISO 8859-1, otherwise as UTF-8; without the
 * charset everything is ISO 8859-1. (The JDK does the same; puresasl hashes UTF-8 always, so
 * the two agree on ASCII only.)
 */
export const hashBytes = (text: string, utf8: boolean): Buffer => {
  if (utf8) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return Buffer.from(text, "utf8")
  }
  return Buffer.from(text, "latin1")
}

/** Inputs of the response / rspauth computation (RFC 2831 §2.1.2.1). */
export interface DigestInputs {
  readonly username: string
  readonly realm: string
  readonly password: string
  readonly nonce: string
  readonly cnonce: string
  /** nonce-count as sent, normally `00000001`. */
  readonly nc: string
  readonly qop: string
  readonly digestUri: string
  /** Included in A1 when present (even when empty). */
  readonly authzid?: string | undefined
  /** charset=utf-8 was negotiated. */
  readonly utf8: boolean
}

const md5 = (...parts: ReadonlyArray<Uint8Array | string>): Buffer => {
  const h = createHash("md5")
  for (const p of parts) h.update(p)
  return h.digest()
}

// Wire bytes of the non-secret values: exactly what was (or will be) sent.
const wire = (text: string, utf8: boolean): Buffer => Buffer.from(text, utf8 ? "utf8" : "latin1")

/** HEX(H(A1)) for algorithm md5-sess; the session key both sides derive. */
const ha1Hex = (p: DigestInputs): string => {
  const secret = md5(hashBytes(p.username, p.utf8), ":", hashBytes(p.realm, p.utf8), ":", hashBytes(p.password, p.utf8))
  const parts: Array<Uint8Array | string> = [secret, ":", wire(p.nonce, p.utf8), ":", wire(p.cnonce, p.utf8)]
  if (p.authzid !== undefined) parts.push(":", wire(p.authzid, p.utf8))
  return md5(...parts).toString("hex")
}

const kdHex = (p: DigestInputs, a2: Buffer): string =>
  md5(ha1Hex(p), ":", wire(p.nonce, p.utf8), ":", p.nc, ":", wire(p.cnonce, p.utf8), ":", p.qop, ":", md5(a2).toString("hex"))
    .toString("hex")

/** The client's `response=` value (A2 = "AUTHENTICATE:" digest-uri), 32 lowercase hex digits. */
export const responseValue = (p: DigestInputs): string =>
  kdHex(p, Buffer.concat([Buffer.from("AUTHENTICATE:"), wire(p.digestUri, p.utf8)]))

/** The server's `rspauth=` value (A2 = ":" digest-uri), proving it knew the password too. */
export const rspauthValue = (p: DigestInputs): string =>
  kdHex(p, Buffer.concat([Buffer.from(":"), wire(p.digestUri, p.utf8)]))

/** A fresh nonce like the JDK's: base64 of 30 random bytes (40 characters). */
export const randomNonce = (): string => randomBytes(30).toString("base64")

// ---------------------------------------------------------------------------------------------
// Server

/** Configuration of one server-side exchange. */
export interface ServerOptions {
  /** user → password, from the JAAS `Server` section (`user_<name>="<password>"`). */
  readonly users: ReadonlyMap<string, string>
  /** The realm offered and required; default "zk-sasl-md5" (the JDK uses the server name). */
  readonly realm?: string
  /** Default "zookeeper". */
  readonly protocol?: string
  /** Default "zk-sasl-md5". The expected digest-uri is `protocol/serverName`. */
  readonly serverName?: string
  /** `zookeeper.superUser`: a SASL user with this name also becomes super. */
  readonly superUser?: string | undefined
  /**
   * `zookeeper.SASLAuthenticationProvider.superPassword`: replaces the password of user "super"
   * (the user must still be listed in the JAAS section, as in SaslServerCallbackHandler).
   */
  readonly superPassword?: string | undefined
  /** Nonce source, injectable for deterministic tests; default `randomNonce`. */
  readonly makeNonce?: () => string
}

/** The server's answer to one client token. */
export type ServerStep =
  /** Send `token` in the SetSASLResponse; the exchange continues. */
  | { readonly _tag: "Challenge"; readonly token: Uint8Array }
  /** Send `token` (rspauth) in the SetSASLResponse; add `ids` to the connection. */
  | {
    readonly _tag: "Success"
    readonly token: Uint8Array
    readonly user: string
    readonly ids: ReadonlyArray<Id>
    readonly isSuper: boolean
  }
  /** Reply AuthFailed (-115) with a null token and close the connection. */
  | { readonly _tag: "Failure"; readonly reason: string }

/** One connection's DIGEST-MD5 server exchange. */
export interface DigestMd5Server {
  /** Feed the next client token (GetSASLRequest.token; pass an empty array for a null token). */
  readonly evaluateResponse: (token: Uint8Array) => ServerStep
  /** "Initial" → "Challenged" → "Complete" | "Failed". */
  readonly state: () => "Initial" | "Challenged" | "Complete" | "Failed"
}

const utf8Bytes = (s: string): Uint8Array => Buffer.from(s, "utf8")
const fail = (reason: string): ServerStep => ({ _tag: "Failure", reason })

/** The challenge text the server sends (field order as the JDK's, plus qop="auth" as in RFC 2831's example). */
export const challengeText = (realm: string, nonce: string): string =>
  `realm=${quote(realm)},nonce=${quote(nonce)},qop="auth",charset=utf-8,algorithm=md5-sess`

// Directives that may appear at most once in a digest-response (RFC 2831 §2.1.2).
const singleDirectives = new Set([
  "username",
  "realm",
  "nonce",
  "cnonce",
  "nc",
  "qop",
  "digest-uri",
  "response",
  "maxbuf",
  "charset",
  "cipher",
  "authzid"
])

interface Verified {
  readonly user: string
  readonly rspauth: string
}

/** Check a digest-response against the nonce we issued; mirrors the JDK's DigestMD5Server checks. */
const verify = (
  options: ServerOptions,
  realm: string,
  digestUri: string,
  nonce: string,
  token: Uint8Array
): Verified | string => {
  if (token.byteLength > MAX_RESPONSE_BYTES) return `digest-response longer than ${MAX_RESPONSE_BYTES} bytes`
  const parsed = parseDirectives(bytesToLatin1(token))
  if (typeof parsed === "string") return parsed
  const fields = new Map<string, string>()
  for (const [key, value] of parsed) {
    if (singleDirectives.has(key) && fields.has(key)) return `more than one ${key} directive`
    fields.set(key, value)
  }
  const charset = fields.get("charset")
  if (charset !== undefined && charset !== "utf-8") return `incompatible charset ${charset}` // JDK: exact match
  const utf8 = charset !== undefined
  const rawUser = fields.get("username")
  if (rawUser === undefined || rawUser === "") return "missing username"
  const user = decodeValue(rawUser, utf8)
  // No realm means "" which is not the realm we offered (the JDK rejects it too); case-sensitive.
  const clientRealm = decodeValue(fields.get("realm") ?? "", utf8)
  if (clientRealm !== realm) return `unknown realm '${clientRealm}'`
  if (fields.get("nonce") !== nonce) return "mismatched nonce"
  const cnonce = fields.get("cnonce")
  if (cnonce === undefined) return "missing cnonce"
  const qop = fields.get("qop") ?? "auth"
  if (qop !== "auth") return `unsupported qop ${qop}`
  const uri = fields.get("digest-uri")
  if (uri === undefined || uri.toLowerCase() !== digestUri.toLowerCase()) return `mismatched digest-uri ${uri ?? "(none)"}`
  const response = fields.get("response")
  if (response === undefined) return "missing response"
  if (!options.users.has(user)) return `no password for user '${user}'`
  const password = user === "super" && options.superPassword !== undefined ? options.superPassword : options.users.get(user)!
  const authzid = fields.get("authzid")
  // The JDK always computes with its own nonce-count 1, whatever `nc` says (a different nc fails as a mismatch).
  const inputs: DigestInputs = {
    username: user,
    realm,
    password,
    nonce,
    cnonce: decodeValue(cnonce, utf8),
    nc: "00000001",
    qop,
    digestUri: decodeValue(uri, utf8),
    authzid: authzid === undefined ? undefined : decodeValue(authzid, utf8),
    utf8
  }
  const expected = Buffer.from(responseValue(inputs), "latin1")
  const got = Buffer.from(response, "latin1")
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return "wrong password or mismatched response"
  return { user, rspauth: rspauthValue(inputs) }
}

/**
 * Start a server exchange. The first client token (normally empty; the JDK ignores any content)
 * is answered with the challenge; the second must be a valid digest-response; anything after
 * completion or failure fails.
 */
export const start = (options: ServerOptions): DigestMd5Server => {
  const realm = options.realm ?? ZK_SERVER_NAME
  const digestUri = `${options.protocol ?? ZK_PROTOCOL}/${options.serverName ?? ZK_SERVER_NAME}`
  const makeNonce = options.makeNonce ?? randomNonce
  let state: "Initial" | "Challenged" | "Complete" | "Failed" = "Initial"
  let nonce = ""
  const evaluateResponse = (token: Uint8Array): ServerStep => {
    switch (state) {
      case "Initial": {
        nonce = makeNonce()
        state = "Challenged"
        return { _tag: "Challenge", token: utf8Bytes(challengeText(realm, nonce)) }
      }
      case "Challenged": {
        const result = verify(options, realm, digestUri, nonce, token)
        if (typeof result === "string") {
          state = "Failed"
          return fail(result)
        }
        state = "Complete"
        return {
          _tag: "Success",
          token: utf8Bytes(`rspauth=${result.rspauth}`),
          user: result.user,
          ids: [{ scheme: "sasl", id: result.user }],
          isSuper: options.superUser !== undefined && result.user === options.superUser
        }
      }
      case "Complete":
        state = "Failed"
        return fail("DIGEST-MD5 exchange already complete")
      case "Failed":
        return fail("DIGEST-MD5 exchange already failed")
    }
  }
  return { evaluateResponse, state: () => state }
}
