/**
 * `ezk ensemble`: a local ensemble on loopback in one command, for trying replication out. It writes
 * `<dataDir>/node<N>/zoo.cfg` and `<dataDir>/node<N>/data/myid` for each peer, runs each as its own
 * `ezk server --config` process (this Node and this bin script), prefixes their output with the
 * node name, prints the connect string, and stops every node when interrupted (Ctrl-C, SIGTERM).
 *
 * Port layout: node N (1-based; observers after the participants) uses three consecutive ports from
 * `basePort + 3·(N-1)`: client, quorum, election. With the default base 2181 node 1 is
 * 2181/2182/2183, node 2 2184/2185/2186, node 3 2187/2188/2189.
 */
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as readline from "node:readline"

/** Flags of `ezk ensemble`. */
export interface EnsembleFlags {
  readonly nodes: number
  readonly observers: number
  readonly basePort: number
  readonly dataDir: string
  readonly tickTime: number
}

export const ENSEMBLE_DEFAULTS: EnsembleFlags = { nodes: 3, observers: 0, basePort: 2181, dataDir: "ezk-ensemble", tickTime: 2000 }

/** One peer of the layout. */
export interface EnsembleNode {
  readonly sid: number
  readonly name: string
  readonly observer: boolean
  readonly clientPort: number
  readonly quorumPort: number
  readonly electionPort: number
  /** `<dataDir>/node<sid>`: holds zoo.cfg and data/. */
  readonly dir: string
}

/** Flags that cannot make an ensemble, or its files could not be written. */
export class EnsembleError extends Data.TaggedError("EnsembleError")<{ readonly message: string }> {}

/** The peers and their ports, or why the flags cannot make an ensemble. */
export const ensembleLayout = (flags: EnsembleFlags): Either.Either<ReadonlyArray<EnsembleNode>, EnsembleError> => {
  const fail = (message: string) => Either.left(new EnsembleError({ message }))
  if (!Number.isInteger(flags.nodes) || flags.nodes < 1) return fail(`--nodes must be at least 1, got ${flags.nodes}`)
  if (!Number.isInteger(flags.observers) || flags.observers < 0) return fail(`--observers must be 0 or more, got ${flags.observers}`)
  const total = flags.nodes + flags.observers
  if (flags.basePort < 1 || flags.basePort + 3 * total - 1 > 65535) {
    return fail(`--base-port ${flags.basePort} leaves no room for ${3 * total} ports`)
  }
  return Either.right(Array.from({ length: total }, (_, i) => {
    const sid = i + 1
    const first = flags.basePort + 3 * i
    return {
      sid,
      name: `node${sid}`,
      observer: sid > flags.nodes,
      clientPort: first,
      quorumPort: first + 1,
      electionPort: first + 2,
      dir: path.join(flags.dataDir, `node${sid}`)
    }
  }))
}

/** zoo.cfg of one peer. initLimit/syncLimit as ZooKeeper's sample config; data dirs absolute. */
export const ensembleZooCfg = (flags: EnsembleFlags, nodes: ReadonlyArray<EnsembleNode>, node: EnsembleNode): string =>
  [
    `tickTime=${flags.tickTime}`,
    "initLimit=10",
    "syncLimit=5",
    `dataDir=${path.resolve(node.dir, "data")}`,
    `clientPort=${node.clientPort}`,
    "clientPortAddress=127.0.0.1",
    "4lw.commands.whitelist=*",
    ...(node.observer ? ["peerType=observer"] : []),
    ...nodes.map(
      (n) => `server.${n.sid}=127.0.0.1:${n.quorumPort}:${n.electionPort}${n.observer ? ":observer" : ""};127.0.0.1:${n.clientPort}`
    ),
    ""
  ].join("\n")

/** Client addresses of every peer, observers included (they serve clients too). */
export const ensembleConnectString = (nodes: ReadonlyArray<EnsembleNode>): string =>
  nodes.map((n) => `127.0.0.1:${n.clientPort}`).join(",")

const writeNodeFiles = (flags: EnsembleFlags, nodes: ReadonlyArray<EnsembleNode>) =>
  Effect.forEach(nodes, (node) =>
    Effect.tryPromise({
      try: async () => {
        await fs.mkdir(path.join(node.dir, "data"), { recursive: true })
        await fs.writeFile(path.join(node.dir, "data", "myid"), `${node.sid}\n`)
        await fs.writeFile(path.join(node.dir, "zoo.cfg"), ensembleZooCfg(flags, nodes, node))
      },
      catch: (e) => new EnsembleError({ message: `cannot write ${node.dir}: ${e instanceof Error ? e.message : String(e)}` })
    }), { discard: true })

/** Copies each line of a child's stream to ours, prefixed with the node name. */
const prefixLines = (stream: NodeJS.ReadableStream | null, prefix: string, out: NodeJS.WritableStream) => {
  if (stream === null) return
  readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => out.write(`${prefix} | ${line}\n`))
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()))

/** SIGTERM, SIGKILL after 5 s; done once the process is gone. */
const stopChild = (child: ChildProcess) =>
  Effect.suspend(() => {
    if (child.exitCode !== null || child.signalCode !== null) return Effect.void
    child.kill("SIGTERM")
    return Effect.promise(() => exited(child)).pipe(
      Effect.timeoutTo({ duration: "5 seconds", onSuccess: () => Effect.void, onTimeout: () => Effect.sync(() => child.kill("SIGKILL")) }),
      Effect.flatten,
      Effect.zipRight(Effect.promise(() => exited(child)))
    )
  })

/** Spawns one peer. */
const spawnNode = (node: EnsembleNode, ezkBin: string) =>
  Effect.sync(() => {
    const child = spawn(process.execPath, [ezkBin, "server", "--config", path.join(node.dir, "zoo.cfg")], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    prefixLines(child.stdout, node.name, process.stdout)
    prefixLines(child.stderr, node.name, process.stderr)
    child.on("error", (e) => process.stderr.write(`${node.name} | cannot start: ${e.message}\n`))
    child.on("exit", (code, signal) => process.stdout.write(`${node.name} | exited (${signal ?? `code ${code}`})\n`))
    return child
  })

/**
 * Spawns every peer for the life of the scope and stops them all at once: one after another, each
 * remaining peer would first lose its leader and run an election for nothing.
 */
const runNodes = (nodes: ReadonlyArray<EnsembleNode>, ezkBin: string) =>
  Effect.acquireRelease(
    Effect.forEach(nodes, (node) => spawnNode(node, ezkBin)),
    (children) => Effect.forEach(children, stopChild, { concurrency: "unbounded", discard: true })
  )

/**
 * Runs the ensemble until interrupted; the scope's finalizers stop every node. `ezkBin` is the
 * script that runs `ezk` (bin/ezk.cjs), started with this process's Node.
 */
export const ensembleCommand = (flags: EnsembleFlags, ezkBin: string): Effect.Effect<never, EnsembleError> =>
  Effect.scoped(
    Effect.gen(function*() {
      const nodes = yield* ensembleLayout(flags)
      yield* writeNodeFiles(flags, nodes)
      yield* runNodes(nodes, ezkBin)
      yield* Console.log(
        nodes
          .map((n) => `${n.name}: ${n.observer ? "observer" : "participant"}, client ${n.clientPort}, quorum ${n.quorumPort}, election ${n.electionPort}, ${path.resolve(n.dir)}`)
          .join("\n")
      )
      yield* Console.log(`connect string: ${ensembleConnectString(nodes)}`)
      return yield* Effect.never
    })
  )
