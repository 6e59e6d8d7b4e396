/**
 * The shell's process side: output on stdout/stderr, and lines from stdin — read as they come
 * when stdin is a pipe or file (zkCli without JLine: no prompt), or through node:readline on a
 * terminal: the zkCli prompt, line editing, history (arrow keys, kept in ~/.ezk_shell_history or
 * $EZK_SHELL_HISTORY) and tab completion of command names and znode paths. A watch event that
 * arrives while the prompt waits is printed above it and the prompt is drawn again.
 */
import { Effect, Exit, FiberSet, Mailbox, Option, type Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import type { CommandContext } from "./Command.js"
import { commandNames } from "./Commands.js"
import { connectedClient, type Io, type Session } from "./Session.js"
import { type LineSource, prompt, type ShellState } from "./Shell.js"

/** Output on the process's streams; `event` redraws the prompt when a terminal is waiting for input. */
export const processIo = (): Io & { redraw: (() => void) | undefined } => {
  // A reader that went away (`ezk shell ... | head -1`) must not crash the shell: like zkCli's
  // PrintStream, it stops writing there and carries on to its normal exit code.
  const open = { out: true, err: true }
  process.stdout.on("error", () => void (open.out = false))
  process.stderr.on("error", () => void (open.err = false))
  const out = (text: string) => void (open.out && process.stdout.write(text))
  const io = {
    redraw: undefined as (() => void) | undefined,
    out: (line: string) => out(`${line}\n`),
    err: (line: string) => void (open.err && process.stderr.write(`${line}\n`)),
    event: (lines: ReadonlyArray<string>) => {
      if (io.redraw === undefined) return out(`${lines.join("\n")}\n`)
      out(`\r\x1b[K${lines.join("\n")}\n`)
      io.redraw()
    }
  }
  return io
}

/**
 * Completions for the line typed so far (as JLineZNodeCompleter): a word starting with `/` is a
 * znode path whose last segment is completed from the server's children; the first word is a
 * command name. Returns readline's `[candidates, replaced text]`.
 */
export const complete = (session: Session, line: string): Effect.Effect<[Array<string>, string]> =>
  Effect.gen(function*() {
    const token = line.endsWith(" ") ? "" : line.split(" ").pop() ?? ""
    if (token.startsWith("/")) {
      const cut = token.lastIndexOf("/") + 1
      const prefix = token.slice(cut)
      const dir = cut === 1 ? "/" : token.slice(0, cut - 1)
      const zk = yield* connectedClient(session)
      if (Option.isNone(zk)) return [[], token]
      const children = yield* zk.value.getChildren(dir).pipe(Effect.timeout("2 seconds"), Effect.orElseSucceed(() => []))
      return [children.filter((c) => c.startsWith(prefix)).sort().map((c) => token.slice(0, cut) + c), token]
    }
    if (line.trimStart() === token) return [commandNames().filter((c) => c.startsWith(token)), token]
    return [[], token]
  })

const historyFile = (): string => process.env["EZK_SHELL_HISTORY"] ?? path.join(os.homedir(), ".ezk_shell_history")

const loadHistory = (file: string): Array<string> => {
  try {
    return fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").reverse().slice(0, 1000)
  } catch {
    return []
  }
}

/** Lines of stdin: from a terminal with the interactive prompt, otherwise as they are read. */
export const stdinLines = (io: ReturnType<typeof processIo>) =>
(ctx: CommandContext, state: ShellState): Effect.Effect<LineSource, never, Scope.Scope> =>
  Effect.gen(function*() {
    const lines = yield* Mailbox.make<string>()
    const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true
    const runFork = yield* FiberSet.makeRuntime<never>()
    const file = historyFile()
    const rl = yield* Effect.acquireRelease(
      Effect.sync(() =>
        terminal
          ? readline.createInterface({
            input: process.stdin,
            output: process.stdout,
            terminal: true,
            history: loadHistory(file),
            historySize: 1000,
            removeHistoryDuplicates: true,
            completer: (line: string, done: (err: null, result: [Array<string>, string]) => void) => {
              runFork(complete(ctx.session, line).pipe(Effect.map((r) => done(null, r))))
            }
          })
          : readline.createInterface({ input: process.stdin, terminal: false })
      ),
      (rl) =>
        Effect.sync(() => {
          io.redraw = undefined
          rl.close()
        })
    )
    rl.on("line", (line) => void lines.unsafeOffer(line))
    rl.on("close", () => void lines.unsafeDone(Exit.void))
    if (!terminal) {
      return lines.take.pipe(Effect.orElseSucceed(() => undefined))
    }
    rl.on("history", (history: Array<string>) => {
      try {
        fs.writeFileSync(file, `${[...history].reverse().join("\n")}\n`)
      } catch {
        // no writable home: history lasts for this run only
      }
    })
    // Ctrl-C clears a typed line; on an empty line it leaves the shell, as Ctrl-D does.
    rl.on("SIGINT", () => {
      if (rl.line === "") rl.close()
      else {
        rl.write(null, { ctrl: true, name: "e" })
        rl.write(null, { ctrl: true, name: "u" })
      }
    })
    return Effect.gen(function*() {
      rl.setPrompt(prompt(ctx.session, state))
      io.redraw = () => {
        rl.setPrompt(prompt(ctx.session, state))
        rl.prompt(true)
      }
      rl.prompt()
      const line = yield* lines.take.pipe(Effect.orElseSucceed(() => undefined))
      io.redraw = undefined
      return line
    })
  })
