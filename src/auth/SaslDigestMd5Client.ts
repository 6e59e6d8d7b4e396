/**
 * SASL DIGEST-MD5 (RFC 2831) client side, for our own client and tests. It speaks like the ZooKeeper
 * Java client (protocol "zookeeper", serverName "zk-sasl-md5", so digest-uri
 * "zookeeper/zk-sasl-md5") and therefore also works against Apache ZooKeeper servers.
 *
 * Exchange (opcode 102, one GetSASLRequest per step):
 *   send `initialResponse` (empty) → evaluateChallenge(challenge) → send Response token
 *   → evaluateChallenge(`rspauth=…`) → Complete (nothing more is sent).
 */
import type { Directive } from "./SaslDigestMd5.js"
import {
  bytesToLatin1,
  decodeValue,
  type DigestInputs,
  parseDirectives,
  quote,
  randomNonce,
  responseValue,
  rspauthValue,
  ZK_PROTOCOL,
  ZK_SERVER_NAME
} from "./SaslDigestMd5.js"

/** RFC 2831 §2.1.1: a digest-challenge longer than this is rejected. */
export const MAX_CHALLENGE_BYTES = 2048

/** Configuration of one client-side exchange. */
export interface ClientOptions {
  readonly username: string
  readonly password: string
  /** Sent as authzid (and mixed into A1) when set; the Java client sets it to the username. */
  readonly authzid?: string | undefined
  /** Default "zookeeper". */
  readonly protocol?: string
  /** Default "zk-sasl-md5". digest-uri is `protocol/serverName`. */
  readonly serverName?: string
  /** Realm to answer with; default the first realm the server offered ("" when none). */
  readonly realm?: string | undefined
  /** cnonce source, injectable for deterministic tests; default base64 of 30 random bytes. */
  readonly makeCnonce?: () => string
}

/** What the client does after a server token. */
export type ClientStep =
  /** Send `token` in the next GetSASLRequest. */
  | { readonly _tag: "Response"; readonly token: Uint8Array }
  /** The server proved it knows the password; authentication is complete, send nothing. */
  | { readonly _tag: "Complete" }
  /** Give up (the server's token was malformed, unsupported, or its rspauth was wrong). */
  | { readonly _tag: "Failure"; readonly reason: string }

/** One connection's DIGEST-MD5 client exchange. */
export interface DigestMd5Client {
  /** DIGEST-MD5 has no initial response: ZooKeeper clients open with an empty token. */
  readonly initialResponse: Uint8Array
  /** Feed the token of the server's SetSASLResponse (null/empty tokens fail before completion). */
  readonly evaluateChallenge: (token: Uint8Array | null) => ClientStep
  /** "Initial" → "Responded" → "Complete" | "Failed". */
  readonly state: () => "Initial" | "Responded" | "Complete" | "Failed"
}

interface Challenge {
  readonly realms: ReadonlyArray<string>
  readonly nonce: string
  readonly utf8: boolean
}

/** Validate a digest-challenge (RFC 2831 §2.1.1) and pick out what the response needs. */
const readChallenge = (directives: ReadonlyArray<Directive>): Challenge | string => {
  const realms: Array<string> = []
  let nonce: string | undefined
  let qop: string | undefined
  let charset: string | undefined
  let algorithm: string | undefined
  for (const [key, value] of directives) {
    switch (key) {
      case "realm":
        realms.push(value)
        break
      case "nonce":
        if (nonce !== undefined) return "more than one nonce"
        nonce = value
        break
      case "qop":
        if (qop !== undefined) return "more than one qop"
        qop = value
        break
      case "charset":
        if (charset !== undefined) return "more than one charset"
        charset = value
        break
      case "algorithm":
        if (algorithm !== undefined) return "more than one algorithm"
        algorithm = value
        break
    }
  }
  if (nonce === undefined) return "challenge without nonce"
  if (algorithm?.toLowerCase() !== "md5-sess") return `unsupported algorithm ${algorithm ?? "(none)"}`
  const qops = (qop ?? "auth").split(",").map((q) => q.trim().toLowerCase())
  if (!qops.includes("auth")) return `server does not offer qop=auth (${qop})`
  if (charset !== undefined && charset.toLowerCase() !== "utf-8") return `unsupported charset ${charset}`
  const utf8 = charset !== undefined
  return { realms: realms.map((r) => decodeValue(r, utf8)), nonce: decodeValue(nonce, utf8), utf8 }
}

/** Start a client exchange. */
export const start = (options: ClientOptions): DigestMd5Client => {
  const digestUri = `${options.protocol ?? ZK_PROTOCOL}/${options.serverName ?? ZK_SERVER_NAME}`
  const makeCnonce = options.makeCnonce ?? randomNonce
  let state: "Initial" | "Responded" | "Complete" | "Failed" = "Initial"
  let sent: DigestInputs | undefined
  const failure = (reason: string): ClientStep => {
    state = "Failed"
    return { _tag: "Failure", reason }
  }

  const respond = (token: Uint8Array): ClientStep => {
    if (token.byteLength === 0) return failure("empty challenge")
    if (token.byteLength > MAX_CHALLENGE_BYTES) return failure(`challenge longer than ${MAX_CHALLENGE_BYTES} bytes`)
    const directives = parseDirectives(bytesToLatin1(token))
    if (typeof directives === "string") return failure(directives)
    const challenge = readChallenge(directives)
    if (typeof challenge === "string") return failure(challenge)
    const realm = options.realm ?? challenge.realms[0] ?? ""
    const inputs: DigestInputs = {
      username: options.username,
      realm,
      password: options.password,
      nonce: challenge.nonce,
      cnonce: makeCnonce(),
      nc: "00000001",
      qop: "auth",
      digestUri,
      authzid: options.authzid,
      utf8: challenge.utf8
    }
    // Same directive order as the JDK client.
    const parts: Array<string> = []
    if (inputs.utf8) parts.push("charset=utf-8")
    parts.push(`username=${quote(inputs.username)}`)
    if (realm !== "") parts.push(`realm=${quote(realm)}`)
    parts.push(
      `nonce=${quote(inputs.nonce)}`,
      `nc=${inputs.nc}`,
      `cnonce=${quote(inputs.cnonce)}`,
      `digest-uri=${quote(digestUri)}`,
      `maxbuf=65536`,
      `response=${responseValue(inputs)}`,
      `qop=auth`
    )
    if (inputs.authzid !== undefined) parts.push(`authzid=${quote(inputs.authzid)}`)
    const text = parts.join(",")
    // Without charset=utf-8 the exchange is ISO 8859-1, which cannot carry wider characters.
    if (!inputs.utf8 && /[^\u0000-\u00ff]/.test(text)) return failure("server did not offer charset=utf-8")
    sent = inputs
    state = "Responded"
    return { _tag: "Response", token: Buffer.from(text, inputs.utf8 ? "utf8" : "latin1") }
  }

  const finish = (token: Uint8Array, inputs: DigestInputs): ClientStep => {
    const directives = parseDirectives(bytesToLatin1(token))
    if (typeof directives === "string") return failure(directives)
    const rspauth = directives.find(([key]) => key === "rspauth")?.[1]
    if (rspauth === undefined) return failure("server reply without rspauth")
    if (rspauth.toLowerCase() !== rspauthValue(inputs)) return failure("server rspauth mismatch")
    state = "Complete"
    return { _tag: "Complete" }
  }

  const evaluateChallenge = (token: Uint8Array | null): ClientStep => {
    switch (state) {
      case "Initial":
        return respond(token ?? new Uint8Array(0))
      case "Responded":
        return token === null || token.byteLength === 0 || sent === undefined
          ? failure("server completed without rspauth")
          : finish(token, sent)
      case "Complete":
        return failure("DIGEST-MD5 exchange already complete")
      case "Failed":
        return failure("DIGEST-MD5 exchange already failed")
    }
  }

  return { initialResponse: new Uint8Array(0), evaluateChallenge, state: () => state }
}
