/**
 * JAAS login configuration files, read the way the JDK's ConfigFile does, to get ZooKeeper's
 * DIGEST-MD5 users: every `user_<name>="<password>"` option of every login module in the `Server`
 * section (SaslServerCallbackHandler; the section name is `zookeeper.sasl.serverconfig`).
 *
 * ```
 * Server {
 *   org.apache.zookeeper.server.auth.DigestLoginModule required
 *   user_super="adminsecret"
 *   user_bob="bobpw";
 * };
 * ```
 *
 * Syntax (JDK `sun.security.provider.ConfigFile` over a `StreamTokenizer`): `Name { Module Flag
 * key=value ... ; ... };`, flags required/requisite/sufficient/optional (any case), values are
 * words or "double-quoted" strings with backslash escapes (an unclosed quote ends at the end of
 * the line; 'single' quotes are tokenized but refused), `//`, `/* *\/` and a lone `/` start comments, `${prop}` in values is expanded, a
 * section name may appear only once, and an empty section counts as missing.
 */
import { FileSystem } from "@effect/platform"
import { Data, Effect, Either } from "effect"

/** ZooKeeper's default server section (`zookeeper.sasl.serverconfig`). */
export const DEFAULT_SERVER_SECTION = "Server"
/** ZooKeeper's default client section (`zookeeper.sasl.clientconfig`). */
export const DEFAULT_CLIENT_SECTION = "Client"

/** A JAAS file that cannot be read, parsed or used. */
export class JaasError extends Data.TaggedError("JaasError")<{
  readonly reason: "ReadFailed" | "Syntax" | "DuplicateSection" | "Expansion" | "MissingSection"
  readonly file: string
  /** 1-based; 0 when the error is not tied to a line. */
  readonly line: number
  readonly detail: string
}> {
  override get message(): string {
    return this.line > 0 ? `${this.file}:${this.line}: ${this.detail}` : `${this.file}: ${this.detail}`
  }
}

/** One `ModuleClass Flag options;` line of a section. */
export interface LoginModuleEntry {
  readonly loginModule: string
  readonly flag: "required" | "requisite" | "sufficient" | "optional"
  readonly options: ReadonlyMap<string, string>
  readonly line: number
}

/** Section name → its login modules, in file order. */
export type JaasConfig = ReadonlyMap<string, ReadonlyArray<LoginModuleEntry>>

/** Parse options. */
export interface ParseOptions {
  /** Values for `${name}` in option values (Java system properties); unknown names are an error. */
  readonly properties?: (name: string) => string | undefined
}

// ---------------------------------------------------------------------------------------------
// Tokenizer (StreamTokenizer with ConfigFile's settings)

type Token =
  | { readonly kind: "word"; readonly text: string; readonly line: number }
  | { readonly kind: "quoted"; readonly text: string; readonly line: number }
  | { readonly kind: "squoted"; readonly text: string; readonly line: number }
  | { readonly kind: "number"; readonly text: string; readonly line: number }
  | { readonly kind: "char"; readonly text: string; readonly line: number }
  | { readonly kind: "eof"; readonly text: ""; readonly line: number }

// Word characters: letters, $ _ - * and (as in StreamTokenizer's defaults) 160..255 and beyond 255;
// digits, '.' and '-' continue a word; a token starting with a digit or '.' is a number.
const isWordStart = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 36 || c === 95 || c === 42 || c >= 160
const isNumberStart = (c: number): boolean => (c >= 48 && c <= 57) || c === 46
const isWordPart = (c: number): boolean => isWordStart(c) || isNumberStart(c) || c === 45

const escapes: Record<string, string> = { a: "\u0007", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\u000b" }

const tokenize = (text: string, file: string): Array<Token> | JaasError => {
  const tokens: Array<Token> = []
  const n = text.length
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0 // a BOM would otherwise glue itself to the first name
  let line = 1
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 10) {
      line++
      i++
    } else if (c <= 32) {
      i++
    } else if (c === 47 /* / */) {
      if (text.charCodeAt(i + 1) === 42 /* * */) {
        // An unclosed comment runs to the end of the file, as in StreamTokenizer.
        const close = text.indexOf("*/", i + 2)
        const end = close < 0 ? n : close
        for (let k = i; k < end; k++) if (text.charCodeAt(k) === 10) line++
        i = close < 0 ? n : close + 2
      } else {
        // `//` and a lone `/` both comment out the rest of the line.
        while (i < n && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++
      }
    } else if (c === 34 || c === 39) {
      const start = line
      let value = ""
      i++
      for (;;) {
        // Like StreamTokenizer, the end of the line (or file) also ends a quoted string.
        if (i >= n || text.charCodeAt(i) === 10 || text.charCodeAt(i) === 13) break
        const q = text.charCodeAt(i)
        if (q === c) {
          i++
          break
        }
        if (q === 92 /* \ */ && i + 1 < n) {
          const e = text[i + 1]!
          const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))?.[0]
          if (octal !== undefined) {
            const digits = octal.length === 3 && octal[0]! > "3" ? octal.slice(0, 2) : octal
            value += String.fromCharCode(parseInt(digits, 8))
            i += 1 + digits.length
          } else {
            value += escapes[e] ?? e
            if (e === "\n") line++
            i += 2
          }
          continue
        }
        value += text[i]
        i++
      }
      tokens.push({ kind: c === 34 ? "quoted" : "squoted", text: value, line: start })
    } else if (isWordStart(c) || isNumberStart(c) || (c === 45 && isNumberStart(text.charCodeAt(i + 1)))) {
      const start = i
      i++
      while (i < n && isWordPart(text.charCodeAt(i))) i++
      tokens.push({ kind: isWordStart(c) ? "word" : "number", text: text.slice(start, i), line })
    } else {
      tokens.push({ kind: "char", text: text[i]!, line })
      i++
    }
  }
  tokens.push({ kind: "eof", text: "", line })
  return tokens
}

// ---------------------------------------------------------------------------------------------
// Parser (ConfigFile.parseLoginEntry)

const flags = new Set(["required", "requisite", "sufficient", "optional"])

/** Java PropertyExpander: `${name}` from the properties, `${/}` is the path separator. */
const expand = (value: string, properties: ParseOptions["properties"]): string | { readonly missing: string } => {
  let out = ""
  let i = 0
  for (;;) {
    const open = value.indexOf("${", i)
    const close = open < 0 ? -1 : value.indexOf("}", open + 2)
    if (close < 0) return out + value.slice(i)
    const name = value.slice(open + 2, close)
    const replacement = name === "/" ? "/" : properties?.(name)
    if (replacement === undefined) return { missing: name }
    out += value.slice(i, open) + replacement
    i = close + 1
  }
}

const describe = (t: Token): string => (t.kind === "eof" ? "end of file" : t.kind === "quoted" ? `"${t.text}"` : `'${t.text}'`)

/** Parse a JAAS configuration file's text; `file` names it in errors. */
export const parse = (text: string, file: string, options: ParseOptions = {}): Either.Either<JaasConfig, JaasError> => {
  const tokens = tokenize(text, file)
  if (tokens instanceof JaasError) return Either.left(tokens)
  const sections = new Map<string, ReadonlyArray<LoginModuleEntry>>()
  let pos = 0
  const peek = (): Token => tokens[pos]!
  const next = (): Token => tokens[pos++] ?? tokens[tokens.length - 1]!
  const syntax = (t: Token, expected: string) =>
    new JaasError({ reason: "Syntax", file, line: t.line, detail: `expected ${expected}, found ${describe(t)}` })
  const isChar = (t: Token, ch: string) => t.kind === "char" && t.text === ch
  const text1 = (expected: string): string | JaasError => {
    const t = next()
    if (t.kind === "word" || t.kind === "quoted") return t.text
    if (t.kind === "squoted") {
      return new JaasError({
        reason: "Syntax",
        file,
        line: t.line,
        detail: `expected ${expected}, found '${t.text}' in single quotes (JAAS needs double quotes)`
      })
    }
    if (t.kind === "number") {
      return new JaasError({
        reason: "Syntax",
        file,
        line: t.line,
        detail: `expected ${expected}, found '${t.text}' (quote values that start with a digit, '.' or '-')`
      })
    }
    return syntax(t, expected)
  }
  const expectChar = (ch: string): JaasError | undefined => (isChar(peek(), ch) ? void next() : syntax(peek(), `'${ch}'`))

  while (peek().kind !== "eof") {
    const nameToken = peek()
    const name = text1("a section name")
    if (name instanceof JaasError) return Either.left(name)
    const open = expectChar("{")
    if (open) return Either.left(open)
    const modules: Array<LoginModuleEntry> = []
    while (!isChar(peek(), "}")) {
      const moduleToken = peek()
      const loginModule = text1("a login module class name")
      if (loginModule instanceof JaasError) return Either.left(loginModule)
      const flagToken = peek()
      const flag = text1("a control flag")
      if (flag instanceof JaasError) return Either.left(flag)
      const lowered = flag.toLowerCase()
      if (!flags.has(lowered)) {
        return Either.left(new JaasError({
          reason: "Syntax",
          file,
          line: flagToken.line,
          detail: `invalid control flag '${flag}' (required, requisite, sufficient or optional)`
        }))
      }
      const moduleOptions = new Map<string, string>()
      while (!isChar(peek(), ";")) {
        const key = text1("an option name or ';'")
        if (key instanceof JaasError) return Either.left(key)
        const eq = expectChar("=")
        if (eq) return Either.left(eq)
        const valueToken = peek()
        const raw = text1(`a value for option '${key}'`)
        if (raw instanceof JaasError) return Either.left(raw)
        const value = raw === "" ? raw : expand(raw, options.properties)
        if (typeof value !== "string" || (value === "" && raw !== "")) {
          const detail = typeof value === "string"
            ? `option '${key}' expanded to an empty value`
            : `cannot expand \${${value.missing}} in option '${key}'`
          return Either.left(new JaasError({ reason: "Expansion", file, line: valueToken.line, detail }))
        }
        moduleOptions.set(key, value)
      }
      next() // ';'
      modules.push({
        loginModule,
        flag: lowered as LoginModuleEntry["flag"],
        options: moduleOptions,
        line: moduleToken.line
      })
    }
    next() // '}'
    const semi = expectChar(";")
    if (semi) return Either.left(semi)
    if (sections.has(name)) {
      return Either.left(new JaasError({
        reason: "DuplicateSection",
        file,
        line: nameToken.line,
        detail: `section '${name}' is defined more than once`
      }))
    }
    sections.set(name, modules)
  }
  return Either.right(sections)
}

// ---------------------------------------------------------------------------------------------
// ZooKeeper's use of it

const USER_PREFIX = "user_"

/**
 * The DIGEST-MD5 users of a section: every `user_<name>` option of every module, later ones
 * winning (SaslServerCallbackHandler). A missing or empty section is an error (the JDK reports an
 * empty section as absent), as ZooKeeper then refuses to start.
 */
export const serverUsers = (
  config: JaasConfig,
  file: string,
  section: string = DEFAULT_SERVER_SECTION
): Either.Either<Map<string, string>, JaasError> => {
  const modules = config.get(section)
  if (modules === undefined || modules.length === 0) {
    const detail = modules === undefined
      ? `no '${section}' section in the JAAS configuration`
      : `the '${section}' section of the JAAS configuration has no login module`
    return Either.left(new JaasError({ reason: "MissingSection", file, line: 0, detail }))
  }
  const users = new Map<string, string>()
  for (const m of modules) {
    for (const [key, value] of m.options) {
      if (key.startsWith(USER_PREFIX)) users.set(key.slice(USER_PREFIX.length), value)
    }
  }
  return Either.right(users)
}

/** parse + serverUsers. */
export const parseServerUsers = (
  text: string,
  file: string,
  section: string = DEFAULT_SERVER_SECTION,
  options: ParseOptions = {}
): Either.Either<Map<string, string>, JaasError> =>
  Either.flatMap(parse(text, file, options), (config) => serverUsers(config, file, section))

/** The client credentials of a section (DigestLoginModule's `username` / `password` options), if any. */
export const clientCredentials = (
  config: JaasConfig,
  section: string = DEFAULT_CLIENT_SECTION
): { readonly username: string; readonly password: string } | undefined => {
  for (const m of config.get(section) ?? []) {
    const username = m.options.get("username")
    const password = m.options.get("password")
    if (username !== undefined && password !== undefined) return { username, password }
  }
  return undefined
}

/** Read a JAAS file (UTF-8, as the JDK reads it) and return the users of `section`. */
export const loadServerUsers = (
  path: string,
  section: string = DEFAULT_SERVER_SECTION,
  options: ParseOptions = {}
): Effect.Effect<Map<string, string>, JaasError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path, "utf-8")).pipe(
    Effect.mapError((cause) => new JaasError({ reason: "ReadFailed", file: path, line: 0, detail: cause.message })),
    Effect.flatMap((text) => parseServerUsers(text, path, section, options))
  )
