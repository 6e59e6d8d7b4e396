/**
 * `ezk shell`: zkCli.sh's command loop (ZooKeeperMain). One command from argv, or commands read
 * line by line from stdin (no prompt), or an interactive terminal (prompt, line editing, history,
 * tab completion: Terminal.ts). The exit code is zkCli's: that of the last command run (0, 1 for a
 * failed command, 127 for an unknown one).
 */
import { Effect } from "effect"
import { parseOptions, parseShellArgs, splitLine } from "./CommandLine.js"
import { CliFailure, type Command, type CommandContext } from "./Command.js"
import { BUILTINS, COMMANDS, usageLines } from "./Commands.js"
import { type Io, makeSession, type Session } from "./Session.js"

/** The loop's memory: numbered history (for `history`/`redo`) and the exit code so far. */
export interface ShellState {
  readonly history: Map<number, string>
  commandCount: number
  exitCode: number
  quit: boolean
}

/** A fresh loop state. */
export const makeState = (): ShellState => ({ history: new Map(), commandCount: 0, exitCode: 0, quit: false })

/** The prompt, e.g. `[zk: 127.0.0.1:2181(CONNECTED) 3] `. */
export const prompt = (session: Session, state: ShellState): string =>
  `[zk: ${session.host()}(${session.promptState()}) ${state.commandCount}] `

const alive = (session: Session) => {
  const s = session.promptState()
  return s !== "CLOSED" && s !== "AUTH_FAILED"
}

/** Runs a typed line: blank lines are ignored, anything else is numbered and kept in the history. */
export const executeLine = (ctx: CommandContext, state: ShellState, line: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    const words = splitLine(line)
    if (words.length === 0) return Effect.void
    state.history.set(state.commandCount, line)
    return processCommand(ctx, state, words).pipe(Effect.ensuring(Effect.sync(() => state.commandCount++)))
  })

/** Runs one command and records its exit code; a failure's message goes to stderr. */
export const processCommand = (ctx: CommandContext, state: ShellState, words: ReadonlyArray<string>): Effect.Effect<void> =>
  dispatch(ctx, state, words).pipe(
    Effect.matchEffect({
      onFailure: (f) =>
        Effect.sync(() => {
          state.exitCode = f.exitCode
          ctx.io.err(f.message)
        }),
      onSuccess: (keepExitCode) =>
        Effect.sync(() => {
          if (!keepExitCode) state.exitCode = 0
        })
    })
  )

/** ZooKeeperMain.processZKCmd. Succeeds with true when the exit code is already set (quit, redo). */
const dispatch = (ctx: CommandContext, state: ShellState, words: ReadonlyArray<string>): Effect.Effect<boolean, CliFailure> =>
  Effect.gen(function*() {
    const [cmd, ...rest] = words as [string, ...Array<string>]
    const command = COMMANDS.get(cmd)
    if (command === undefined && !BUILTINS.has(cmd)) {
      for (const l of usageLines()) ctx.io.err(l)
      return yield* new CliFailure(`Command not found: Command not found ${cmd}`, 127)
    }
    switch (cmd) {
      case "quit":
        yield* ctx.session.shutdown
        state.quit = true
        return true
      case "help":
        for (const l of usageLines()) ctx.io.out(l)
        return false
      case "redo":
        return yield* redo(ctx, state, rest[0])
      case "history":
        for (let i = Math.max(0, state.commandCount - 10); i <= state.commandCount; i++) {
          ctx.io.out(`${i} - ${state.history.get(i) ?? "null"}`)
        }
        return false
      case "printwatches":
        if (rest.length === 0) ctx.io.out(`printwatches is ${ctx.session.printWatches ? "on" : "off"}`)
        else ctx.session.printWatches = rest[0] === "on"
        return false
      case "connect":
        yield* ctx.session.connect(rest[0] ?? ctx.session.host())
        return false
    }
    if (command === undefined) return false
    // Every other command needs a live session; zkCli checks before parsing the command.
    if (!alive(ctx.session)) {
      ctx.io.out("Not connected")
      return false
    }
    yield* runCommand(ctx, command, words)
    return false
  })

/** `redo N`: runs history entry N again (and records it under the current number). */
const redo = (ctx: CommandContext, state: ShellState, arg: string | undefined): Effect.Effect<boolean, CliFailure> =>
  Effect.gen(function*() {
    if (arg === undefined) return false
    const i = /^\d+$/.test(arg) ? Number(arg) : /^0x[0-9a-f]+$/i.test(arg) ? Number.parseInt(arg.slice(2), 16) : -1
    if (state.commandCount <= i || i < 0) return yield* new CliFailure("Command index out of range")
    const line = state.history.get(i)!
    const words = splitLine(line)
    if (words[0] === "redo") return yield* new CliFailure("No redoing redos")
    state.history.set(state.commandCount, line)
    yield* processCommand(ctx, state, words)
    return true
  })

/** Parses a server command's flags as commons-cli does and runs it. */
const runCommand = (ctx: CommandContext, command: Command, words: ReadonlyArray<string>): Effect.Effect<void, CliFailure> =>
  Effect.gen(function*() {
    let parsed = parseOptions(command.options, words)
    if (typeof parsed === "string") return yield* new CliFailure(parsed)
    if (parsed.args.length < command.minArgs) return yield* new CliFailure(`${command.name} ${command.usage}`)
    if (command.legacy !== undefined && parsed.args.length > 2) {
      ctx.io.err(command.legacy.note)
      if (command.legacy.rewrite) {
        // zkCli overwrites the third word of the line (whatever it was) with -w and parses again.
        parsed = parseOptions(command.options, words.map((w, i) => (i === 2 ? "-w" : w)))
        if (typeof parsed === "string") return yield* new CliFailure(parsed)
      }
    }
    yield* command.run(ctx, parsed).pipe(
      Effect.catchTag("NotConnected", () => Effect.sync(() => ctx.io.out("Not connected")))
    )
  })

/** Lines of input for the stdin and terminal modes; undefined at the end of input. */
export type LineSource = Effect.Effect<string | undefined>

/**
 * Runs the shell over `argv` (after `ezk shell`) and returns the exit code. `input` is called only
 * when no command is given: it gets the context and state (for the prompt and completion) and
 * returns where lines come from.
 */
export const runShell = <R>(
  argv: ReadonlyArray<string>,
  io: Io,
  input: (ctx: CommandContext, state: ShellState) => Effect.Effect<LineSource, never, R>
): Effect.Effect<number, never, R> =>
  Effect.gen(function*() {
    const args = parseShellArgs(argv)
    if (typeof args === "string") {
      io.err(args)
      return 2
    }
    if (args.help === true) {
      io.out("ezk shell [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [cmd args...]")
      for (const l of usageLines().slice(1)) io.out(l)
      return 0
    }
    const session = makeSession(io, { timeoutMs: args.timeoutMs, readOnly: args.readOnly })
    const ctx: CommandContext = { session, io }
    const state = makeState()
    io.out(`Connecting to ${args.server}`)
    yield* session.connect(args.server)
    if (args.command !== undefined) {
      yield* processCommand(ctx, state, args.command)
    } else {
      const next = yield* input(ctx, state)
      io.out("Welcome to ZooKeeper!")
      while (!state.quit) {
        const line = yield* next
        if (line === undefined) break
        yield* executeLine(ctx, state, line)
      }
    }
    yield* session.shutdown
    return state.exitCode
  })
