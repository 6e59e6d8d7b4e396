/**
 * EnsembleConfig: what one ensemble peer needs to know about itself and the others, resolved from a
 * ZkConfig and the `myid` file in its dataDir with ZooKeeper 3.8's QuorumPeerConfig rules
 * (setupMyId, setupClientPort, setupPeerType). The quorum code reads only this: sids, roles,
 * addresses and the limits as plain ms numbers (turned into Durations/Schedules at the shell).
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { Disk, type DiskError } from "../disk/Disk.js"
import { isQuorum, logNotes, type Note, type QuorumServer, type ZkConfig, ZkConfigError } from "./Config.js"

/** One peer's view of its ensemble. */
export interface EnsembleConfig {
  /** This peer's server id (the `myid` file). */
  readonly myid: number
  /** This peer's own `server.N` line. */
  readonly self: QuorumServer
  /** This peer's role: the servers list wins over `peerType`, as in ZooKeeper. */
  readonly role: "participant" | "observer"
  /** Every `server.N`, by sid. */
  readonly servers: ReadonlyMap<number, QuorumServer>
  /** Sids that vote (participants); a quorum is a strict majority of these. */
  readonly voters: ReadonlySet<number>
  /** Sids that only learn (observers never vote). */
  readonly observers: ReadonlySet<number>
  /** Where this peer serves clients: its server.N `;[host:]port`, else clientPortAddress/clientPort. */
  readonly clientAddress: { readonly host: string | undefined; readonly port: number }
  /** Host to bind the quorum and election ports on: all interfaces with quorumListenOnAllIPs, else our server.N host. */
  readonly listenHost: string
  readonly tickTimeMs: number
  readonly initLimitTicks: number
  readonly syncLimitTicks: number
  /** initLimit · tickTime: how long discovery and sync may take. */
  readonly initLimitMs: number
  /** syncLimit · tickTime: how long a learner may stay silent before it is dropped (or drops its leader). */
  readonly syncLimitMs: number
  /** Election connect and handshake timeout (`cnxTimeout`). */
  readonly cnxTimeoutMs: number
  /** Election port bind attempts; 0 = keep trying. */
  readonly electionPortBindRetry: number
  readonly minNotificationIntervalMs: number
  readonly maxNotificationIntervalMs: number
}

const inconsistent = (detail: string): ZkConfigError => new ZkConfigError({ reason: "Inconsistent", detail })

/**
 * Parses the text of a `myid` file: its first line, a non-negative integer. ZooKeeper's
 * Long.parseLong rejects surrounding blanks; ezk trims them, since `echo 1 > myid` style files vary.
 */
export const parseMyid = (text: string, path: string): Either.Either<number, ZkConfigError> => {
  const first = text.split(/\r\n|\r|\n/)[0]!.trim()
  const n = Number(first)
  if (!/^\d+$/.test(first) || !Number.isSafeInteger(n)) {
    return Either.left(new ZkConfigError({ reason: "InvalidValue", detail: `${path}: serverid ${JSON.stringify(first)} is not a number` }))
  }
  return Either.right(n)
}

/** Reads `<dataDir>/myid` over the Disk port (where the server reads its data dir). */
export const readMyid = (dataDir: string): Effect.Effect<number, ZkConfigError, Disk> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const path = `${dataDir}/myid`
    const unreadable = (e: DiskError) => new ZkConfigError({ reason: "Read", detail: `cannot read ${path}: ${e.code ?? String(e.cause)}` })
    if (!(yield* disk.exists(path).pipe(Effect.mapError(unreadable)))) {
      return yield* new ZkConfigError({
        reason: "Missing",
        detail: `${path} file is missing: an ensemble peer reads its server id there (e.g. echo 1 > ${path} for server.1)`
      })
    }
    const bytes = yield* disk.readFile(path).pipe(Effect.mapError(unreadable))
    return yield* parseMyid(new TextDecoder().decode(bytes), path)
  })

/** The client address rule of QuorumPeerConfig.setupClientPort: server.N's `;port` wins, and may not contradict clientPort. */
const clientAddressOf = (config: ZkConfig, self: QuorumServer): Either.Either<EnsembleConfig["clientAddress"], ZkConfigError> => {
  const fromLine = self.clientAddress
  const fromKeys = config.clientPort >= 0 ? { host: config.clientPortAddress, port: config.clientPort } : undefined
  if (fromLine !== undefined && fromKeys !== undefined) {
    const hostsDiffer = fromKeys.host !== undefined && fromKeys.host !== "0.0.0.0" && fromLine.host !== undefined && fromKeys.host !== fromLine.host
    if (fromKeys.port !== fromLine.port || hostsDiffer) {
      return Either.left(
        inconsistent(
          `client address for this server (id = ${self.sid}) is ${fromKeys.host ?? "0.0.0.0"}:${fromKeys.port} from clientPortAddress/clientPort but ${fromLine.host ?? "0.0.0.0"}:${fromLine.port} in server.${self.sid}`
        )
      )
    }
  }
  const address = fromLine ?? fromKeys
  if (address === undefined) return Either.left(new ZkConfigError({ reason: "Missing", detail: `no client port for server.${self.sid}: set clientPort or add ;port to its server.${self.sid} line` }))
  return Either.right(address)
}

/**
 * Resolves this peer's EnsembleConfig from a quorum config and its myid; pure. Fails when the config is
 * not an ensemble, myid is not a listed server, no server votes, or the client address contradicts
 * server.N; a `peerType` that disagrees with the servers list is a warning (ZooKeeper keeps the list's).
 */
export const resolve = (config: ZkConfig, myid: number): Either.Either<{ readonly ensemble: EnsembleConfig; readonly notes: ReadonlyArray<Note> }, ZkConfigError> =>
  Either.gen(function* () {
    const q = config.quorum
    if (!isQuorum(q)) return yield* Either.left(inconsistent(`${config.source ?? "the config"} has no server.N peers: not an ensemble`))
    const servers = new Map(q.servers.map((s) => [s.sid, s] as const))
    const self = servers.get(myid)
    if (self === undefined) {
      return yield* Either.left(inconsistent(`myid ${myid} is not among the configured servers (${q.servers.map((s) => `server.${s.sid}`).join(", ")})`))
    }
    const voters = new Set(q.servers.filter((s) => s.type === "participant").map((s) => s.sid))
    const observers = new Set(q.servers.filter((s) => s.type === "observer").map((s) => s.sid))
    if (voters.size === 0) return yield* Either.left(inconsistent("every server.N is an observer: an ensemble needs participants to vote"))
    const notes: Array<Note> = []
    if (q.peerType !== self.type) {
      notes.push({ level: "Warning", message: `peerType=${q.peerType} does not match server.${myid} (${self.type}); using ${self.type} from the servers list, as ZooKeeper does` })
    }
    const clientAddress = yield* clientAddressOf(config, self)
    // decodeQuorum guarantees both limits are positive whenever isQuorum holds.
    const initLimitTicks = q.initLimit!
    const syncLimitTicks = q.syncLimit!
    const ensemble: EnsembleConfig = {
      myid,
      self,
      role: self.type,
      servers,
      voters,
      observers,
      clientAddress,
      listenHost: q.quorumListenOnAllIPs ? "0.0.0.0" : self.addresses[0]!.host,
      tickTimeMs: config.tickTime,
      initLimitTicks,
      syncLimitTicks,
      initLimitMs: initLimitTicks * config.tickTime,
      syncLimitMs: syncLimitTicks * config.tickTime,
      cnxTimeoutMs: q.cnxTimeoutMs,
      electionPortBindRetry: q.electionPortBindRetry,
      minNotificationIntervalMs: q.minNotificationIntervalMs,
      maxNotificationIntervalMs: q.maxNotificationIntervalMs
    }
    return { ensemble, notes }
  })

/** Reads myid from the config's dataDir and resolves the EnsembleConfig, logging the notes. */
export const load = (config: ZkConfig): Effect.Effect<EnsembleConfig, ZkConfigError, Disk> =>
  Effect.gen(function* () {
    const myid = yield* readMyid(config.dataDir)
    const { ensemble, notes } = yield* resolve(config, myid)
    yield* logNotes(notes)
    return ensemble
  })
