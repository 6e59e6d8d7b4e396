/**
 * ACL rules of the client port (client.md §11): which connection ids satisfy a node's ACL, how a
 * create/setACL ACL list is validated and expanded, and how getACL hides digests.
 *
 * Pure and synchronous: `checkACL` runs on every request, so it allocates nothing and parses ip
 * ACLs straight from the strings. The per-scheme semantics mirror ZooKeeper 3.8's providers
 * (`server/auth/{Digest,IP,SASL}AuthenticationProvider.java`, `ZooKeeperServer.checkACL`,
 * `PrepRequestProcessor.fixupACL`); the edge cases were checked against the 3.8.0 jar.
 */
import type { ACL, Id } from "../wire/ClientRecords.js"

/** An authenticated identity of a connection (`digest:alice:…`, `ip:127.0.0.1`, `sasl:bob`). */
export type AuthId = Id

/** The id every connection matches; used by the open ACLs below. */
export const ANYONE_ID_UNSAFE: Id = { scheme: "world", id: "anyone" }
/** The pseudo id that create/setACL expand to the caller's authenticated ids. */
export const AUTH_IDS: Id = { scheme: "auth", id: "" }
/** ZooDefs.Ids.OPEN_ACL_UNSAFE: everyone may do everything. */
export const OPEN_ACL_UNSAFE: ReadonlyArray<ACL> = [{ perms: 31, id: ANYONE_ID_UNSAFE }]
/** ZooDefs.Ids.READ_ACL_UNSAFE: everyone may read. */
export const READ_ACL_UNSAFE: ReadonlyArray<ACL> = [{ perms: 1, id: ANYONE_ID_UNSAFE }]
/** ZooDefs.Ids.CREATOR_ALL_ACL: everything for the creator's authenticated ids. */
export const CREATOR_ALL_ACL: ReadonlyArray<ACL> = [{ perms: 31, id: AUTH_IDS }]

// ---------------------------------------------------------------------------------------------
// checkACL

/**
 * True when a connection with `ids` may perform an operation needing `perm` on a node with `acl`.
 * `perm` may be an OR of bits (getACL passes READ|ADMIN): an entry qualifies if it has any of them,
 * as in ZooKeeperServer.checkACL. An empty ACL and super users always pass. `isSuper` must be set
 * by the caller when the connection holds a `super` id (digest superDigest or SASL superUser);
 * `ids` itself is not scanned for `super`.
 * Matching: `world:anyone` matches everyone; `digest` exact string; `ip` IPv4 address or prefix
 * (`a.b.c.d/bits`); `sasl` exact, and a SASL user named `super` matches every sasl entry (a 3.8
 * SASLAuthenticationProvider quirk). Other schemes (also `world:<other>`, `super`, `x509`) never match.
 */
export const checkACL = (
  acl: ReadonlyArray<ACL>,
  perm: number,
  ids: ReadonlyArray<Id>,
  isSuper: boolean
): boolean => {
  if (acl.length === 0 || isSuper) return true
  for (let i = 0; i < acl.length; i++) {
    const entry = acl[i]!
    if ((entry.perms & perm) === 0) continue
    const scheme = entry.id.scheme
    if (scheme === "world") {
      if (entry.id.id === "anyone") return true
      continue
    }
    for (let j = 0; j < ids.length; j++) {
      const own = ids[j]!
      if (own.scheme === scheme && schemeMatches(scheme, own.id, entry.id.id)) return true
    }
  }
  return false
}

/** Does the connection id `id` satisfy the ACL expression `aclExpr` of the same `scheme`? */
export const schemeMatches = (scheme: string, id: string, aclExpr: string): boolean => {
  switch (scheme) {
    case "digest":
      return id === aclExpr
    case "ip":
      return ipMatches(id, aclExpr)
    case "sasl":
      return id === aclExpr || id === "super"
    default:
      return false
  }
}

// ---------------------------------------------------------------------------------------------
// IPv4 (IPAuthenticationProvider): allocation-free parsing with Java Integer.parseInt rules.

/** Parse a Java `Integer.parseInt` decimal in s[start, end) (optional sign, ASCII digits); -1 if invalid or > max. */
const parseSmallInt = (s: string, start: number, end: number, max: number): number => {
  let i = start
  let negative = false
  if (i < end) {
    const c = s.charCodeAt(i)
    if (c === 43 /* + */ || c === 45 /* - */) {
      negative = c === 45
      i++
    }
  }
  if (i >= end) return -1
  let value = 0
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    value = value * 10 + d
    if (value > max) return -1 // out of range either way (also where Java would overflow)
  }
  return negative && value !== 0 ? -1 : value
}

/**
 * Parse a dotted IPv4 address in s[start, end) into an unsigned 32-bit number; -1 if invalid.
 * One pass, each octet with parseSmallInt's rules (sign allowed, "-0" is 0, no value above 255).
 */
const parseIPv4 = (s: string, start: number, end: number): number => {
  let addr = 0
  let octet = 0
  let digits = 0
  let parts = 0
  let negative = false
  let signed = false
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48)
      digits++
      if (octet > 255) return -1
    } else if (c === 46 /* . */) {
      if (digits === 0 || parts === 3 || (negative && octet !== 0)) return -1
      addr = addr * 256 + octet
      parts++
      octet = 0
      digits = 0
      negative = false
      signed = false
    } else if ((c === 43 /* + */ || c === 45 /* - */) && digits === 0 && !signed) {
      signed = true
      negative = c === 45
    } else {
      return -1
    }
  }
  if (digits === 0 || parts !== 3 || (negative && octet !== 0)) return -1
  return addr * 256 + octet
}

/** Split `a.b.c.d[/bits]` into address and prefix bits; null when invalid (cold path: validation only). */
const parseIpExpr = (expr: string): { addr: number; bits: number } | null => {
  const slash = expr.indexOf("/")
  const addr = parseIPv4(expr, 0, slash < 0 ? expr.length : slash)
  if (addr < 0) return null
  if (slash < 0) return { addr, bits: 32 }
  const bits = parseSmallInt(expr, slash + 1, expr.length, 32)
  return bits < 0 ? null : { addr, bits }
}

const maskOf = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0)

/** IPAuthenticationProvider.matches: the remote address lies inside the ACL's address/prefix. */
export const ipMatches = (remote: string, aclExpr: string): boolean => {
  const slash = aclExpr.indexOf("/")
  const aclAddr = parseIPv4(aclExpr, 0, slash < 0 ? aclExpr.length : slash)
  if (aclAddr < 0) return false
  const bits = slash < 0 ? 32 : parseSmallInt(aclExpr, slash + 1, aclExpr.length, 32)
  if (bits < 0) return false
  const remoteAddr = parseIPv4(remote, 0, remote.length)
  if (remoteAddr < 0) return false
  const mask = maskOf(bits)
  return ((remoteAddr & mask) >>> 0) === ((aclAddr & mask) >>> 0)
}

/** IPAuthenticationProvider.isValid: IPv4 (no IPv6 in 3.8.0), optional `/0`..`/32`. */
export const isValidIpExpr = (expr: string): boolean => parseIpExpr(expr) !== null

/**
 * The `ip` id of a connection from a socket's remote address. Node reports IPv4 peers of a
 * dual-stack listener as `::ffff:a.b.c.d`; Java reports them as `a.b.c.d`, which ip ACLs need.
 */
export const ipIdFromRemoteAddress = (remoteAddress: string): string => {
  const lower = remoteAddress.toLowerCase()
  if (lower.startsWith("::ffff:") && parseIPv4(remoteAddress, 7, remoteAddress.length) >= 0) {
    return remoteAddress.slice(7)
  }
  return remoteAddress
}

// ---------------------------------------------------------------------------------------------
// fixupACL

/**
 * DigestAuthenticationProvider.isValid: Java `id.split(":").length == 2`, i.e. exactly two parts
 * once trailing empty parts are dropped. So `alice:hash` and (quirk) `:hash`, `a:b:` are valid;
 * `alice`, `alice:`, `a:b:c`, `a::b` are not.
 */
export const isValidDigestId = (id: string): boolean => {
  let end = id.length
  while (end > 0 && id.charCodeAt(end - 1) === 58 /* : */) end--
  if (end === 0) return false
  const first = id.indexOf(":")
  if (first < 0 || first >= end) return false
  const second = id.indexOf(":", first + 1)
  return second < 0 || second >= end
}

/** Schemes whose ids count as "authenticated" for `auth` expansion (digest, sasl; not ip/world/super). */
export const isAuthenticatedScheme = (scheme: string, saslEnabled = true): boolean =>
  scheme === "digest" || (saslEnabled && scheme === "sasl")

/** Options of fixupACL. */
export interface FixupOptions {
  /**
   * Whether the `sasl` scheme is registered (ZooKeeper needs `authProvider.N=…SASLAuthenticationProvider`
   * in zoo.cfg; without it `sasl:` entries are InvalidACL and `auth` skips sasl ids). Default true.
   */
  readonly saslEnabled?: boolean
}

const sameACL = (a: ACL, b: ACL): boolean =>
  a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id

const isValidEntryId = (scheme: string, id: string, saslEnabled: boolean): boolean => {
  switch (scheme) {
    case "world":
      return id === "anyone"
    case "digest":
      return isValidDigestId(id)
    case "ip":
      return isValidIpExpr(id)
    case "sasl":
      // SASLAuthenticationProvider.isValid accepts any string, even "" (checked against 3.8.0).
      return saslEnabled
    default:
      return false
  }
}

/**
 * PrepRequestProcessor.fixupACL for create/setACL: drop duplicate entries (first wins), reject an
 * empty list, expand `auth` (whatever its id) into one entry per authenticated id of the
 * connection with the entry's perms, and validate every other entry's scheme and id.
 * Returns null for InvalidACL (-114). Like ZooKeeper, entries produced by expansion are not
 * deduplicated again, and perms are not range-checked.
 */
export const fixupACL = (
  acl: ReadonlyArray<ACL>,
  ids: ReadonlyArray<Id>,
  options?: FixupOptions
): ReadonlyArray<ACL> | null => {
  const saslEnabled = options?.saslEnabled ?? true
  const unique: Array<ACL> = []
  for (const entry of acl) {
    if (!unique.some((u) => sameACL(u, entry))) unique.push(entry)
  }
  if (unique.length === 0) return null
  const out: Array<ACL> = []
  for (const entry of unique) {
    const scheme = entry.id.scheme
    if (scheme === "auth") {
      let expanded = false
      for (const own of ids) {
        if (isAuthenticatedScheme(own.scheme, saslEnabled)) {
          out.push({ perms: entry.perms, id: own })
          expanded = true
        }
      }
      if (!expanded) return null
    } else if (isValidEntryId(scheme, entry.id.id, saslEnabled)) {
      out.push(entry)
    } else {
      return null
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// redactACL

// Java's `replaceAll(":.*", ":x")`: `.` stops at line terminators, and every line is rewritten.
const digestSecret = /:[^\n\r\u0085\u2028\u2029]*/g

/**
 * The ACL as getACL returns it to a caller without ADMIN on the node: each digest id keeps only
 * its user (`digest:bob:x`); other schemes are unchanged (FinalRequestProcessor, observed [B]).
 */
export const redactACL = (acl: ReadonlyArray<ACL>): ReadonlyArray<ACL> => {
  let out: Array<ACL> | null = null
  for (let i = 0; i < acl.length; i++) {
    const entry = acl[i]!
    if (entry.id.scheme !== "digest" || entry.id.id.indexOf(":") < 0) continue
    out ??= acl.slice()
    out[i] = { perms: entry.perms, id: { scheme: "digest", id: entry.id.id.replace(digestSecret, ":x") } }
  }
  return out ?? acl
}
