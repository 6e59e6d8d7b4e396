/**
 * The shell's connection: one ZooKeeper client at a time (`connect` replaces it, `close` ends it),
 * its state for the prompt, and every watch the shell set, printed as zkCli's default watcher
 * prints events (`WATCHER::` then `WatchedEvent state:.. type:.. path:..`, each after a blank line).
 *
 * The client connects in the background, as zkCli's does: the prompt shows CONNECTING meanwhile
 * and a command waits for the session up to the session timeout, then fails with ConnectionLoss.
 */
import { Data, Deferred, Effect, Exit, Option, Scope, Stream } from "effect"
import { type Client, make, type Watch, type AddWatchModeName } from "../../client/ZooKeeper.js"
import type { SessionState, WatchedEvent } from "../../client/ZooKeeper.js"
import { ConnectionLoss, type ZkError } from "../../client/ZooKeeperError.js"
import { watchedEvent } from "./Format.js"

/** Where the shell writes. `event` is for output that arrives between commands (watches). */
export interface Io {
  readonly out: (line: string) => void
  readonly err: (line: string) => void
  readonly event: (lines: ReadonlyArray<string>) => void
}

/** Options the shell connects with (from its argv). */
export interface ConnectOptions {
  readonly timeoutMs: number
  readonly readOnly: boolean
}

/** Java's ZooKeeper.States names, as the prompt shows them. */
const promptStates: Record<SessionState, string> = {
  Connected: "CONNECTED",
  ConnectedReadOnly: "CONNECTEDREADONLY",
  Disconnected: "CONNECTING",
  Expired: "CLOSED",
  AuthFailed: "AUTH_FAILED",
  Closed: "CLOSED"
}

/** KeeperState names of session events. */
const keeperStates: Record<SessionState, string> = {
  Connected: "SyncConnected",
  ConnectedReadOnly: "ConnectedReadOnly",
  Disconnected: "Disconnected",
  Expired: "Expired",
  AuthFailed: "AuthFailed",
  Closed: "Closed"
}

interface Connection {
  readonly scope: Scope.CloseableScope
  readonly client: Deferred.Deferred<Client, ZkError>
  state: SessionState | "Connecting"
}

/** Failure of a command that needs a session when there is none (zkCli prints `Not connected`). */
export class NotConnected extends Data.TaggedError("NotConnected") {}

/** The shell's session holder. */
export interface Session {
  /** The connect string of the current (or last) connection. */
  readonly host: () => string
  /** State for the prompt: CONNECTING, CONNECTED, CLOSED, ... */
  readonly promptState: () => string
  /** Whether watch events are printed (`printwatches on|off`). */
  printWatches: boolean
  /** Closes the current session (if any) and connects to `host` in the background. */
  readonly connect: (host: string) => Effect.Effect<void>
  /** Closes the current session; its Closed event is printed. */
  readonly close: Effect.Effect<void>
  /** Closes without printing anything (quit, end of input). */
  readonly shutdown: Effect.Effect<void>
  /** The connected client; waits for the session up to the timeout. */
  readonly client: Effect.Effect<Client, ZkError | NotConnected>
  /** Prints the event of a one-shot watch when it fires (once per event, however many watches saw it). */
  readonly printOneShot: (watch: Watch) => Effect.Effect<void>
  /** Adds a persistent watch whose events are printed until it is removed or the session ends. */
  readonly addPersistent: (path: string, mode: AddWatchModeName) => Effect.Effect<void, ZkError | NotConnected>
}

const terminal = (s: SessionState | "Connecting") => s === "Closed" || s === "Expired" || s === "AuthFailed"

/** Creates the session holder (not yet connected). */
export const makeSession = (io: Io, options: ConnectOptions): Session => {
  let host = ""
  let current: Connection | undefined
  // The Java client gives one default watcher a Set of events to deliver, so an event seen by a
  // data and an exists watch (or a one-shot and a persistent one) prints once. The client hands
  // every watch of one notification the same event object, which is what this remembers.
  const printed = new WeakSet<WatchedEvent>()

  const print = (state: string, type: string, path: string | null) => {
    if (session.printWatches) io.event(["", "WATCHER::", "", watchedEvent(state, type, path)])
  }
  const printNodeEvent = (event: WatchedEvent) =>
    Effect.sync(() => {
      if (printed.has(event)) return
      printed.add(event)
      print("SyncConnected", event.type, event.path)
    })

  // The state printer lives in the connection's scope and stops before the client's own
  // finalizer reports Closed, so the Closed event of `close` is printed here.
  const end = (conn: Connection, quiet: boolean) =>
    Effect.gen(function*() {
      const wasOpen = !terminal(conn.state)
      conn.state = "Closed"
      yield* Scope.close(conn.scope, Exit.void)
      if (!quiet && wasOpen) print("Closed", "None", null)
    })

  const connect = (newHost: string) =>
    Effect.gen(function*() {
      if (current !== undefined) yield* end(current, false)
      host = newHost
      const scope = yield* Scope.make()
      const client = yield* Deferred.make<Client, ZkError>()
      const conn: Connection = { scope, client, state: "Connecting" }
      current = conn
      const open = Effect.gen(function*() {
        const zk = yield* make({
          connectString: newHost,
          sessionTimeoutMs: options.timeoutMs,
          readOnly: options.readOnly,
          // Keep trying in the background, as zkCli does; commands give up after the timeout.
          connectTimeoutMs: 2 ** 31 - 1
        }).pipe(Scope.extend(scope))
        // The connect event prints before any command's output, as it does in zkCli.
        conn.state = yield* zk.state
        print(keeperStates[conn.state], "None", null)
        yield* Deferred.succeed(client, zk)
        // Later session events (the stream starts with the current state, printed above).
        yield* zk.states.pipe(
          Stream.runForEach((s) =>
            Effect.sync(() => {
              if (conn.state === "Closed" || s === conn.state) return
              conn.state = s
              print(keeperStates[s], "None", null)
            })
          ),
          Effect.forkIn(scope)
        )
      })
      // Only a bad connect string fails here (the client retries unreachable servers for ever).
      yield* open.pipe(
        Effect.catchAll((e) =>
          Effect.sync(() => {
            conn.state = "Closed"
            io.err(`Cannot connect to ${newHost}: ${e.message}`)
          }).pipe(Effect.zipRight(Deferred.fail(client, e)))
        ),
        Effect.forkIn(scope)
      )
    })

  const client: Session["client"] = Effect.suspend((): Effect.Effect<Client, ZkError | NotConnected> => {
    const conn = current
    if (conn === undefined || terminal(conn.state)) return Effect.fail(new NotConnected())
    return Deferred.await(conn.client).pipe(
      Effect.timeoutFail({
        duration: options.timeoutMs,
        onTimeout: () => new ConnectionLoss({ reason: `no session with ${host} within ${options.timeoutMs}ms` })
      })
    )
  })

  const session: Session = {
    host: () => host,
    promptState: () => (current === undefined ? "CLOSED" : current.state === "Connecting" ? "CONNECTING" : promptStates[current.state]),
    printWatches: true,
    connect,
    close: Effect.suspend(() => (current === undefined ? Effect.void : end(current, false))),
    shutdown: Effect.suspend(() => (current === undefined ? Effect.void : end(current, true))),
    client,
    printOneShot: (watch) =>
      Effect.suspend(() => {
        const conn = current
        if (conn === undefined) return Effect.void
        return watch.pipe(Effect.flatMap(printNodeEvent), Effect.ignore, Effect.forkIn(conn.scope), Effect.asVoid)
      }),
    addPersistent: (path, mode) =>
      Effect.gen(function*() {
        const zk = yield* client
        const conn = current!
        const events = yield* zk.addWatch(path, mode).pipe(Scope.extend(conn.scope))
        yield* events.pipe(Stream.runForEach(printNodeEvent), Effect.ignore, Effect.forkIn(conn.scope))
      })
  }
  return session
}

/** The client, if the session is connected now (for tab completion, which must not wait). */
export const connectedClient = (session: Session): Effect.Effect<Option.Option<Client>> =>
  session.promptState() === "CONNECTED" || session.promptState() === "CONNECTEDREADONLY"
    ? Effect.option(session.client)
    : Effect.succeedNone
