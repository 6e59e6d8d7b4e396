/**
 * How `ezk shell` prints things, byte for byte as zkCli.sh 3.8 does where scripts parse it: the
 * stat block (StatPrinter), `ls` lists, ACL lines (jute's toString of an Id), error messages
 * (CliWrapperException, KeeperException.getMessage), watch events (WatchedEvent.toString) and the
 * client-side path check (PathUtils.validatePath). Pure functions of their inputs.
 */
import type { ACL, Stat } from "../../wire/ClientRecords.js"
import { Err, Perms } from "../../wire/Codes.js"
import type { ErrCode } from "../../client/ZooKeeperError.js"

/** Java's `Long.toHexString`: two's complement for negative values. */
export const javaHex = (n: number | bigint): string => BigInt.asUintN(64, BigInt(n)).toString(16)

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const pad2 = (n: number) => String(n).padStart(2, "0")

/** The local zone's short name at `date` ("UTC", "CET", or "GMT+1" where Intl knows no abbreviation). */
const zoneName = (date: Date): string => {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(date).find((p) => p.type === "timeZoneName")
  return part?.value ?? "UTC"
}

/** Java's `new Date(ms).toString()` in the local time zone: `Wed Nov 25 09:35:21 UTC 2026`. */
export const javaDate = (ms: number): string => {
  const d = new Date(ms)
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${time} ${zoneName(d)} ${d.getFullYear()}`
}

/** The eleven `key = value` lines of zkCli's StatPrinter. */
export const statLines = (stat: Stat): Array<string> => [
  `cZxid = 0x${javaHex(stat.czxid)}`,
  `ctime = ${javaDate(stat.ctime)}`,
  `mZxid = 0x${javaHex(stat.mzxid)}`,
  `mtime = ${javaDate(stat.mtime)}`,
  `pZxid = 0x${javaHex(stat.pzxid)}`,
  `cversion = ${stat.cversion}`,
  `dataVersion = ${stat.version}`,
  `aclVersion = ${stat.aversion}`,
  `ephemeralOwner = 0x${javaHex(stat.ephemeralOwner)}`,
  `dataLength = ${stat.dataLength}`,
  `numChildren = ${stat.numChildren}`
]

/** `ls` output: children sorted (Java's String order = UTF-16 code units, as JS sorts). */
export const childList = (children: ReadonlyArray<string>): string => `[${[...children].sort().join(", ")}]`

/** Java's `List.toString` (getEphemerals prints the server's order). */
export const javaList = (items: ReadonlyArray<string>): string => `[${items.join(", ")}]`

/** ZKUtil.getPermString: the letters in `cdrwa` order. */
export const permString = (perms: number): string =>
  (perms & Perms.CREATE ? "c" : "") + (perms & Perms.DELETE ? "d" : "") + (perms & Perms.READ ? "r" : "") +
  (perms & Perms.WRITE ? "w" : "") + (perms & Perms.ADMIN ? "a" : "")

/** A string as jute's ToStringOutputArchive writes it: a leading quote, then %-escapes. */
const juteString = (s: string): string =>
  "'" + s.replace(/[\0\n\r,}%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`)

/**
 * `getAcl` lines for one entry. zkCli prints `id + ": " + perms`, and an Id's toString ends with a
 * newline, so every entry takes two lines: `'world,'anyone` and `: cdrwa`.
 */
export const aclLines = (acl: ACL): Array<string> => [`${juteString(acl.id.scheme)},${juteString(acl.id.id)}`, `: ${permString(acl.perms)}`]

/**
 * AclParser: `scheme:id:perms[,...]`; the id is everything between the first and the last colon.
 * Malformed entries and unknown perm letters are reported (zkCli prints them on stderr) and skipped.
 */
export const parseAcl = (text: string): { readonly acl: Array<ACL>; readonly warnings: Array<string> } => {
  const acl: Array<ACL> = []
  const warnings: Array<string> = []
  for (const entry of text.split(",")) {
    const first = entry.indexOf(":")
    const last = entry.lastIndexOf(":")
    if (first === -1 || first === last) {
      warnings.push(`${entry} does not have the form scheme:id:perm`)
      continue
    }
    let perms = 0
    for (const c of entry.slice(last + 1)) {
      const bit = ({ r: Perms.READ, w: Perms.WRITE, c: Perms.CREATE, d: Perms.DELETE, a: Perms.ADMIN } as Record<string, number>)[c]
      if (bit === undefined) warnings.push(`Unknown perm type: ${c}`)
      else perms |= bit
    }
    acl.push({ perms, id: { scheme: entry.slice(0, first), id: entry.slice(first + 1, last) } })
  }
  return { acl, warnings }
}

/** KeeperException.getCodeMessage: the text after `KeeperErrorCode = `. */
const codeMessages: Partial<Record<ErrCode, string>> = {
  NotEmpty: "Directory not empty",
  SessionExpired: "Session expired",
  InvalidCallback: "Invalid callback",
  SessionMoved: "Session moved",
  NotReadOnly: "Not a read-only call",
  EphemeralOnLocalSession: "Ephemeral node on local session",
  NoWatcher: "No such watcher",
  ReconfigDisabled: "Reconfig is disabled",
  SessionClosedRequireSaslAuth: "Session closed because client failed to authenticate",
  QuotaExceeded: "Quota has exceeded",
  Throttled: "Op throttled due to high load"
}

/** KeeperException.getMessage: `KeeperErrorCode = NoNode for /x`. */
export const keeperMessage = (code: ErrCode, path: string): string => {
  const text = codeMessages[code] ?? (code === "Unknown" ? "Unknown error" : code)
  return path === "" ? `KeeperErrorCode = ${text}` : `KeeperErrorCode = ${text} for ${path}`
}

/** CliWrapperException's message for a failed request: the friendly forms scripts grep for. */
export const cliErrorMessage = (code: ErrCode, path: string): string => {
  switch (code) {
    case "NoNode":
      return `Node does not exist: ${path}`
    case "NoChildrenForEphemerals":
      return `Ephemerals cannot have children: ${path}`
    case "NodeExists":
      return `Node already exists: ${path}`
    case "NotEmpty":
      return `Node not empty: ${path}`
    case "NotReadOnly":
      return `Not a read-only call: ${path}`
    case "InvalidACL":
      return `Acl is not valid : ${path}`
    case "NoAuth":
      return `Insufficient permission : ${path}`
    case "BadArguments":
      return `Arguments are not valid : ${path}`
    case "BadVersion":
      return `version No is not valid : ${path}`
    case "QuotaExceeded":
      return `Quota has exceeded : ${path}`
    default:
      return keeperMessage(code, path)
  }
}

/** The numeric code of an error name (zkCli's `sync` prints `rc=<n>`). */
export const errNumber = (code: ErrCode): number => (code === "Unknown" ? Err.SystemError : Err[code])

/** WatchedEvent.toString, e.g. `WatchedEvent state:SyncConnected type:NodeDataChanged path:/x`. */
export const watchedEvent = (state: string, type: string, path: string | null): string =>
  `WatchedEvent state:${state} type:${type} path:${path ?? "null"}`

/**
 * PathUtils.validatePath: the Java client rejects a bad path before sending it, and zkCli prints
 * the reason. Returns the message, or undefined for a valid path. `sequential` checks `path + "1"`.
 */
export const pathError = (input: string, sequential = false): string | undefined => {
  const path = sequential ? `${input}1` : input
  if (path.length === 0) return "Path length must be > 0"
  if (path[0] !== "/") return "Path must start with / character"
  if (path.length === 1) return undefined
  if (path.endsWith("/")) return "Path must not end with / character"
  const invalid = (reason: string) => `Invalid path string "${path}" caused by ${reason}`
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i)
    const prev = path[i - 1]
    const atEnd = i + 1 === path.length || path[i + 1] === "/"
    if (c === 0) return invalid(`null character not allowed @${i}`)
    if (path[i] === "/" && prev === "/") return invalid(`empty node name specified @${i}`)
    if (path[i] === "." && prev === "." && path[i - 2] === "/" && atEnd) return invalid(`relative paths not allowed @${i}`)
    if (path[i] === "." && prev === "/" && atEnd) return invalid(`relative paths not allowed @${i}`)
    if (
      (c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)
    ) return invalid(`invalid character @${i}`)
  }
  return undefined
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * Node data for a terminal. Valid UTF-8 without control characters (tab and newline allowed)
 * prints as is, exactly as zkCli prints text. Anything else is escaped so binary stays readable
 * and unambiguous: `\xNN` for each byte that is not printable UTF-8, `\\` for a backslash, `\n`,
 * `\t`, `\r` (zkCli would print U+FFFD replacement characters instead).
 */
export const renderData = (data: Uint8Array | null): string => {
  if (data === null) return "null"
  let text: string | undefined
  try {
    text = utf8.decode(data)
  } catch {
    text = undefined
  }
  // eslint-disable-next-line no-control-regex
  if (text !== undefined && !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(text)) return text
  return escapeBytes(data)
}

const escapeBytes = (data: Uint8Array): string => {
  let out = ""
  let i = 0
  while (i < data.length) {
    const b = data[i]!
    const width = b >= 0xf0 && b < 0xf8 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
    if (b >= 0x80 && width > 1 && i + width <= data.length) {
      try {
        const ch = utf8.decode(data.subarray(i, i + width))
        if (!/[\u0080-\u009f]/.test(ch)) {
          out += ch
          i += width
          continue
        }
      } catch {
        // not a valid sequence: escape the lead byte below
      }
    }
    if (b === 0x5c) out += "\\\\"
    else if (b === 0x0a) out += "\\n"
    else if (b === 0x09) out += "\\t"
    else if (b === 0x0d) out += "\\r"
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b)
    else out += `\\x${b.toString(16).padStart(2, "0")}`
    i++
  }
  return out
}
