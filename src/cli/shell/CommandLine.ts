/**
 * Parsing for `ezk shell`, the way zkCli.sh 3.8 parses: its own argv (ZooKeeperMain.MyCommandOptions),
 * a typed line split into words (quotes group words), and each command's flags as commons-cli's
 * DefaultParser reads them (flags may follow the path; `-v3` and `-v 3` both work; the exception
 * texts are the ones zkCli prints). Pure.
 */

/** What `ezk shell [options] [cmd args...]` asks for. */
export interface ShellArgs {
  /** Connect string (`-server`); zkCli's default is localhost:2181. */
  readonly server: string
  /** Session timeout in ms (`-timeout`). */
  readonly timeoutMs: number
  /** `-r`: accept a read-only server. */
  readonly readOnly: boolean
  /** The command to run instead of reading commands, as words (`get -s /a`), if any. */
  readonly command: ReadonlyArray<string> | undefined
  /** `-h` / `--help`: print the usage and exit. */
  readonly help?: boolean
}

/** Parses the shell's argv; a string is an error message. Unknown `-x` options are skipped, as zkCli does. */
export const parseShellArgs = (argv: ReadonlyArray<string>): ShellArgs | string => {
  let server = "localhost:2181"
  let timeout = "30000"
  let readOnly = false
  for (let i = 0; i < argv.length; i++) {
    const opt = argv[i]!
    const withValue = opt === "-server" || opt === "-timeout" || opt === "-client-configuration"
    if (withValue && i + 1 >= argv.length) return `Error: no argument found for option ${opt}`
    if (opt === "-server") server = argv[++i]!
    else if (opt === "-timeout") timeout = argv[++i]!
    else if (opt === "-client-configuration") i++ // Java client properties: nothing ezk's client reads
    else if (opt === "-r") readOnly = true
    else if (opt === "-h" || opt === "-help" || opt === "--help") return { server, timeoutMs: 1, readOnly, command: undefined, help: true }
    else if (!opt.startsWith("-")) return withTimeout(server, timeout, readOnly, argv.slice(i))
  }
  return withTimeout(server, timeout, readOnly, undefined)
}

const withTimeout = (server: string, timeout: string, readOnly: boolean, command: ShellArgs["command"]): ShellArgs | string =>
  /^\d+$/.test(timeout) && Number(timeout) > 0
    ? { server, timeoutMs: Number(timeout), readOnly, command }
    : `Error: -timeout must be a positive number of milliseconds, got ${timeout}`

/**
 * Splits a typed line into words: runs of non-blanks, or text in single or double quotes (the
 * quotes are dropped). zkCli's pattern `\s*([^"']\S*|"[^"]*"|'[^']*')\s*`.
 */
export const splitLine = (line: string): Array<string> => {
  const words: Array<string> = []
  const re = /\s*([^"'\s]\S*|"[^"]*"|'[^']*')\s*/g
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    const w = m[1]!
    words.push(/^(['"]).*\1$/s.test(w) && w.length >= 2 ? w.slice(1, -1) : w)
  }
  return words
}

/** Flags a command takes: true when the flag takes a value (`-v version`). */
export type OptionSpec = Readonly<Record<string, boolean>>

/** A command's words split into flags and plain arguments (`args[0]` is the command name). */
export interface Parsed {
  readonly args: ReadonlyArray<string>
  readonly flags: ReadonlySet<string>
  readonly values: ReadonlyMap<string, string>
}

const isNegativeNumber = (s: string) => /^-\d+(\.\d+)?$/.test(s)

/** commons-cli DefaultParser over `words`; a string is the exception text zkCli prints. */
export const parseOptions = (spec: OptionSpec, words: ReadonlyArray<string>): Parsed | string => {
  const args: Array<string> = []
  const flags = new Set<string>()
  const values = new Map<string, string>()
  let pending: string | undefined
  let rest = false
  for (const w of words) {
    if (pending !== undefined) {
      if (w.startsWith("-") && w.length > 1 && !isNegativeNumber(w)) break
      values.set(pending, w)
      flags.add(pending)
      pending = undefined
      continue
    }
    if (rest || w === "-" || !w.startsWith("-") || (isNegativeNumber(w) && !(w.slice(1, 2) in spec))) {
      args.push(w)
      continue
    }
    if (w === "--") {
      rest = true
      continue
    }
    if (w.startsWith("--")) return `org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: ${w}`
    for (let i = 1; i < w.length; i++) {
      const ch = w[i]!
      if (!(ch in spec)) return `org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: ${w}`
      flags.add(ch)
      if (spec[ch] === true) {
        if (i + 1 < w.length) values.set(ch, w.slice(i + 1))
        else pending = ch
        break
      }
    }
  }
  if (pending !== undefined) return `org.apache.commons.cli.MissingArgumentException: Missing argument for option: ${pending}`
  return { args, flags, values }
}
