/**
 * The value vocabulary of zoo.cfg decoding, shared by Config and the quorum keys: a setting with its
 * origin, the one-line error naming the key, and Java's parsers (Integer.parseInt, Integer.decode,
 * Boolean.parseBoolean), whose rules differ from JavaScript's and from effect `Config`'s.
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"

/** Why configuration failed; `message` is one line naming the key and the bad value. */
export class ZkConfigError extends Data.TaggedError("ZkConfigError")<{
  readonly reason: "Read" | "Syntax" | "InvalidValue" | "Missing" | "Inconsistent"
  readonly detail: string
}> {
  override get message(): string {
    return this.detail
  }
}

/** Something worth logging about the configuration (ZooKeeper logs the same cases). */
export interface Note {
  readonly level: "Info" | "Warning"
  readonly message: string
}

/** One key/value with where it came from, e.g. `zoo.cfg:12`, `--port`, `--set`, `defaults`. */
export interface Setting {
  readonly key: string
  readonly value: string
  readonly origin: string
}

/** A decoded value or the error naming its key. */
export type Parsed<A> = Either.Either<A, ZkConfigError>

/** The error for a value that does not fit its key. */
export const invalid = (s: Setting, expected: string): ZkConfigError =>
  new ZkConfigError({ reason: "InvalidValue", detail: `${s.origin}: invalid ${s.key}=${JSON.stringify(s.value)}: ${expected}` })

const INT_MIN = -2147483648
const INT_MAX = 2147483647

/** Integer.parseInt: optional sign and decimal digits only, 32-bit range. */
export const javaInt = (s: Setting): Parsed<number> => {
  if (!/^[+-]?\d+$/.test(s.value)) return Either.left(invalid(s, "expected an integer"))
  const n = Number(s.value)
  return n < INT_MIN || n > INT_MAX ? Either.left(invalid(s, "out of 32-bit integer range")) : Either.right(n)
}

/** Integer.decode (what Integer.getInteger uses): also `0x`/`#` hex and leading-zero octal. */
export const javaDecode = (v: string): number | undefined => {
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|#([0-9a-fA-F]+)|(0[0-7]+)|(\d+))$/.exec(v)
  if (m === null) return undefined
  const n = m[2] !== undefined ? Number.parseInt(m[2], 16) : m[3] !== undefined ? Number.parseInt(m[3], 16) : m[4] !== undefined ? Number.parseInt(m[4], 8) : Number(m[5])
  const signed = m[1] === "-" ? -n : n
  return signed < INT_MIN || signed > INT_MAX ? undefined : signed
}

/** Boolean.parseBoolean: only `true` (any case) is true; anything but `false` also gets a warning. */
export const javaBool = (s: Setting, notes: Array<Note>): boolean => {
  const v = s.value.toLowerCase()
  if (v !== "true" && v !== "false") {
    notes.push({ level: "Warning", message: `${s.origin}: ${s.key}=${s.value} is not "true"; treated as false, as ZooKeeper does` })
  }
  return v === "true"
}

/** A TCP port, 0-65535. */
export const port = (s: Setting): Parsed<number> =>
  Either.flatMap(javaInt(s), (n) => (n < 0 || n > 65535 ? Either.left(invalid(s, "port out of range 0-65535")) : Either.right(n)))

/** The error for a required key that is not set. */
export const missing = (detail: string): ZkConfigError => new ZkConfigError({ reason: "Missing", detail })
