/**
 * The shell around the pure FastLeaderElection core (`core/Election.ts`, quorum.md §2): one
 * long-lived driver fiber owns the core state, feeds it notifications from the election port and
 * timer events, and performs its outputs. It runs for the peer's whole life, so a LEADING or
 * FOLLOWING server keeps answering LOOKING peers (that is how a restarted server finds the running
 * leader); `lookForLeader` starts one election and waits for its decision.
 *
 * Timers use Effect's Clock (TestClock drives them in tests):
 * - finalize wait: `finalizeWaitMs` (200) after `StartFinalizeWait`, then `FinalizeTimeout`;
 * - notification wait while looking: starts at `finalizeWaitMs`, doubles on every timeout up to
 *   `maxNotificationIntervalMs` (60 s); a timeout feeds `NoNotificationTimeout` (re-send our vote)
 *   and asks the net to connect to everyone (FastLeaderElection.lookForLeader).
 *
 * What goes on the wire: version-2 notifications carrying `config`, the quorum config text as
 * ZooKeeper 3.8's QuorumMaj.toString writes it (`quorumConfigText`). Received config texts are
 * ignored: ezk runs with reconfigEnabled=false, where ZooKeeper ignores them too.
 */
import { Deferred, Effect, FiberSet, Option, Queue, type Scope } from "effect"
import { type Notification, NOTIFICATION_VERSION, ServerState } from "../../wire/Election.js"
import type { Zxid } from "../../wire/Zxid.js"
import * as Election from "../core/Election.js"
import type { PeerType, QuorumVerifier, Sid } from "../core/QuorumVerifier.js"
import type { ServerState as StateName, Vote } from "../core/Vote.js"
import type { ElectionNet } from "./ElectionNet.js"

/** The election's result: who leads and our own role. */
export type Decided = Extract<Election.Output, { readonly _tag: "Decided" }>

/** How to run FastLeaderElection. */
export interface Options {
  readonly sid: Sid
  readonly verifier: QuorumVerifier
  readonly net: ElectionNet
  /** The config text sent in every notification (see `quorumConfigText`). */
  readonly config: string
  /** `finalizeWait` (200 ms in ZooKeeper); also the first notification wait. */
  readonly finalizeWaitMs?: number
  /** `zookeeper.fastleader.maxNotificationInterval` (60 000 ms). */
  readonly maxNotificationIntervalMs?: number
}

/** A running election service; it lives as long as the scope it was made in. */
export interface FastLeaderElection {
  /** Runs one election (from LOOKING) and returns its decision; one at a time. */
  readonly lookForLeader: (params: { readonly lastLoggedZxid: Zxid; readonly currentEpoch: number }) => Effect.Effect<Decided>
  /** A learner finished syncing: later answers carry the new epoch as peerEpoch (quorum.md §2.3). */
  readonly synced: (peerEpoch: number) => Effect.Effect<void>
  /** Our current vote (the decided one once settled). */
  readonly currentVote: Effect.Effect<Vote>
}

/** One `server.N` line of the config text. */
export interface ConfigServer {
  readonly sid: Sid
  readonly host: string
  readonly quorumPort: number
  readonly electionPort: number
  readonly type: PeerType
  /** Only for a client address given in the dynamic form (`;host:port`), as ZooKeeper prints it. */
  readonly clientAddress?: string
}

/**
 * QuorumMaj.toString (quorum.md §1.5): `server.N=host:quorumPort:electionPort:type[;client]` lines
 * in ascending sid order, then `version=<hex>`, no trailing newline. Hierarchical `group`/`weight`
 * lines are not written.
 */
export const quorumConfigText = (servers: ReadonlyArray<ConfigServer>, version = 0): string =>
  [...servers]
    .sort((a, b) => a.sid - b.sid)
    .map((s) =>
      `server.${s.sid}=${s.host}:${s.quorumPort}:${s.electionPort}:${s.type}${s.clientAddress === undefined ? "" : `;${s.clientAddress}`}\n`
    )
    .join("") + `version=${version.toString(16)}`

const stateNames: ReadonlyArray<StateName> = ["LOOKING", "FOLLOWING", "LEADING", "OBSERVING"]

/** A wire notification as a core vote; null for an unknown state ordinal. */
export const toVote = (n: Notification): Vote | null => {
  const state = stateNames[n.state]
  return state === undefined
    ? null
    : { state, leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch }
}

/** A core vote as the version-2 notification ZooKeeper 3.8 sends. */
export const toNotification = (vote: Vote, config: string): Notification => ({
  state: ServerState[vote.state],
  leader: vote.leader,
  zxid: vote.zxid,
  electionEpoch: vote.electionEpoch,
  peerEpoch: vote.peerEpoch,
  version: NOTIFICATION_VERSION,
  config
})

type Command =
  | { readonly _tag: "Input"; readonly input: Election.Input }
  | { readonly _tag: "Look"; readonly input: Election.Input }

/** Starts the driver fiber in the scope; no election runs until `lookForLeader`. */
export const make = (options: Options): Effect.Effect<FastLeaderElection, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { net, config } = options
    const finalizeWaitMs = options.finalizeWaitMs ?? 200
    const maxNotificationIntervalMs = options.maxNotificationIntervalMs ?? 60_000
    const commands = yield* Queue.unbounded<Command>()
    const timers = yield* FiberSet.make()
    let state = Election.make(options.sid, options.verifier, -1, -1)
    let looking: Deferred.Deferred<Decided> | null = null
    let notificationWaitMs = finalizeWaitMs

    const perform = (output: Election.Output): Effect.Effect<void> => {
      switch (output._tag) {
        case "SendAll":
          return net.sendAll(toNotification(output.vote, config))
        case "SendTo":
          return net.send(output.sid, toNotification(output.vote, config))
        case "StartFinalizeWait":
          return Queue.offer(commands, { _tag: "Input", input: { _tag: "FinalizeTimeout", wait: output.wait } }).pipe(
            Effect.delay(finalizeWaitMs),
            FiberSet.run(timers),
            Effect.asVoid
          )
        case "Decided": {
          const done = looking
          looking = null
          return Effect.logInfo(`election decided: leader ${output.leader}, ${output.state}`).pipe(
            Effect.annotateLogs({ sid: options.sid }),
            Effect.andThen(done === null ? Effect.void : Deferred.succeed(done, output))
          )
        }
      }
    }

    const feed = (input: Election.Input): Effect.Effect<void> => {
      const next = Election.step(state, input)
      state = next.state
      return Effect.forEach(next.outputs, perform, { discard: true })
    }

    const isLooking = () => state.state === "LOOKING" && state.logicalClock > 0

    // Notifications arrive through the same command queue as timers, so one fiber owns `state`.
    yield* Queue.take(net.inbox).pipe(
      Effect.flatMap(({ from, notification }) => {
        const vote = toVote(notification)
        if (vote === null) return Effect.logWarning(`ignoring notification from ${from} with state ${notification.state}`)
        return Queue.offer(commands, { _tag: "Input", input: { _tag: "Notification", from, vote } })
      }),
      Effect.forever,
      Effect.forkScoped
    )

    const nextCommand: Effect.Effect<Option.Option<Command>> = Effect.suspend(() =>
      isLooking() ? Queue.take(commands).pipe(Effect.timeoutOption(notificationWaitMs)) : Queue.take(commands).pipe(Effect.map(Option.some))
    )

    const driver = nextCommand.pipe(
      Effect.flatMap(Option.match({
        onNone: () => {
          notificationWaitMs = Math.min(notificationWaitMs * 2, maxNotificationIntervalMs)
          return feed({ _tag: "NoNotificationTimeout" }).pipe(Effect.andThen(net.connectAll))
        },
        onSome: (command) => {
          if (command._tag === "Look") notificationWaitMs = finalizeWaitMs
          return feed(command.input)
        }
      })),
      Effect.forever
    )
    yield* Effect.forkScoped(driver)

    return {
      lookForLeader: ({ lastLoggedZxid, currentEpoch }) =>
        Effect.gen(function*() {
          if (looking !== null) return yield* Effect.dieMessage("lookForLeader is already running")
          const done = yield* Deferred.make<Decided>()
          looking = done
          yield* Queue.offer(commands, { _tag: "Look", input: { _tag: "Start", lastLoggedZxid, currentEpoch } })
          return yield* Deferred.await(done)
        }).pipe(Effect.onInterrupt(() => Effect.sync(() => (looking = null)))),
      synced: (peerEpoch) => Queue.offer(commands, { _tag: "Input", input: { _tag: "Synced", peerEpoch } }).pipe(Effect.asVoid),
      currentVote: Effect.sync(() => Election.currentVote(state))
    }
  })
