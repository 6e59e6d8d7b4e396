/**
 * A Java `.properties` reader (the format of `zoo.cfg`), pure and synchronous.
 *
 * Rules follow `java.util.Properties.load`: natural lines end at `\n`, `\r` or `\r\n`; a line whose first
 * non-blank character is `#` or `!` is a comment; a line ending in an odd number of backslashes continues
 * on the next line, whose leading blanks are dropped; the key ends at the first unescaped `=`, `:` or blank,
 * then blanks, at most one `=`/`:` and more blanks are skipped; escapes `\t \n \r \f \uXXXX` are decoded
 * and a backslash before any other character keeps that character. Later duplicates win.
 *
 * Differences from Java, on purpose: text is taken as already-decoded (we read files as UTF-8, where
 * Java's `load(InputStream)` uses ISO-8859-1, which only matters for non-ASCII paths), and each entry
 * keeps its line number so config warnings can point at it. Trimming of values is left to the caller
 * (ZooKeeper's QuorumPeerConfig trims both key and value; `Properties` itself keeps trailing blanks).
 */

/** One key/value pair with the 1-based line where its logical line starts. */
export interface PropertyEntry {
  readonly key: string
  readonly value: string
  readonly line: number
}

/** Thrown for the one syntax error Java rejects: a malformed `\uXXXX` escape. */
export class PropertiesSyntaxError extends Error {
  constructor(readonly line: number, detail: string) {
    super(`line ${line}: ${detail}`)
    this.name = "PropertiesSyntaxError"
  }
}

const isBlank = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\f"

interface LogicalLine {
  readonly text: string
  readonly line: number
}

/** Splits text into logical lines (comments and blank lines dropped, continuations joined). */
const logicalLines = (text: string): Array<LogicalLine> => {
  const natural = text.split(/\r\n|\r|\n/)
  const out: Array<LogicalLine> = []
  let i = 0
  while (i < natural.length) {
    const startLine = i + 1
    let current = (natural[i] ?? "").replace(/^[ \t\f]+/, "")
    i++
    // Comment detection applies only to the first natural line of a logical line.
    if (current === "" || current[0] === "#" || current[0] === "!") continue
    while (endsWithOddBackslashes(current)) {
      current = current.slice(0, -1)
      if (i >= natural.length) break // a trailing continuation at EOF just ends the line
      current += (natural[i] ?? "").replace(/^[ \t\f]+/, "")
      i++
    }
    out.push({ text: current, line: startLine })
  }
  return out
}

const endsWithOddBackslashes = (s: string): boolean => {
  let n = 0
  for (let j = s.length - 1; j >= 0 && s[j] === "\\"; j--) n++
  return n % 2 === 1
}

/** Decodes `\t \n \r \f \uXXXX` and `\x` → `x`, as Properties.loadConvert does. */
const unescape = (s: string, line: number): string => {
  if (!s.includes("\\")) return s
  let out = ""
  for (let j = 0; j < s.length; j++) {
    const c = s[j]!
    if (c !== "\\") {
      out += c
      continue
    }
    j++
    const e = s[j]
    if (e === undefined) break
    switch (e) {
      case "t":
        out += "\t"
        break
      case "n":
        out += "\n"
        break
      case "r":
        out += "\r"
        break
      case "f":
        out += "\f"
        break
      case "u": {
        const hex = s.slice(j + 1, j + 5)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PropertiesSyntaxError(line, "Malformed \\uxxxx encoding.")
        out += String.fromCharCode(Number.parseInt(hex, 16))
        j += 4
        break
      }
      default:
        out += e
    }
  }
  return out
}

/** Splits one logical line into its raw (still escaped) key and value. */
const splitKeyValue = (text: string): readonly [string, string] => {
  let k = 0
  while (k < text.length) {
    const c = text[k]
    if (c === "\\") {
      k += 2
      continue
    }
    if (c === "=" || c === ":" || isBlank(c)) break
    k++
  }
  const key = text.slice(0, Math.min(k, text.length))
  let v = k
  while (v < text.length && isBlank(text[v])) v++
  if (v < text.length && (text[v] === "=" || text[v] === ":")) v++
  while (v < text.length && isBlank(text[v])) v++
  return [key, text.slice(v)]
}

/**
 * Parses `.properties` text into entries in file order (duplicates kept; use {@link toMap} for
 * last-wins). Throws {@link PropertiesSyntaxError} on a malformed `\u` escape.
 */
export const parse = (text: string): Array<PropertyEntry> => {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text // tolerate a UTF-8 BOM
  const entries: Array<PropertyEntry> = []
  for (const l of logicalLines(body)) {
    const [rawKey, rawValue] = splitKeyValue(l.text)
    entries.push({ key: unescape(rawKey, l.line), value: unescape(rawValue, l.line), line: l.line })
  }
  return entries
}

/** Last-wins map of entries, in first-seen key order, as `Properties` would hold them. */
export const toMap = (entries: Iterable<PropertyEntry>): Map<string, string> => {
  const m = new Map<string, string>()
  for (const e of entries) m.set(e.key, e.value)
  return m
}
