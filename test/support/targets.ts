/**
 * The servers an integration suite can run against: "ezk" (the built CLI, ezkServer.ts) and
 * "zookeeper" (Apache ZooKeeper 3.8 from the Debian package, apacheZk.ts), behind one shape so the
 * same scripted expectations run against both — which proves the expectations are real ZooKeeper
 * behaviour. Client-facing suites also run against 3-peer ensembles of each kind ("ezk-ensemble",
 * "zookeeper-ensemble", mixedEnsemble.ts) through a connect string of all three peers, so the client
 * lands on a follower as often as on the leader. Select with
 * EZK_TEST_TARGETS=ezk,zookeeper,ezk-ensemble,zookeeper-ensemble (default: all; the zookeeper kinds
 * are skipped when not installed, the ezk kinds fail loudly when not built).
 */
import { afterAll, beforeAll, describe } from "@effect/vitest"
import { type ApacheZk, fourLetterWord, noApacheZk, startApacheZk } from "./apacheZk.js"
import { type MixedEnsemble, type PeerKind, startMixedEnsemble } from "./mixedEnsemble.js"
import { type EzkServer, startEzk } from "./ezkServer.js"

export type TargetName = "ezk" | "zookeeper" | "ezk-ensemble" | "zookeeper-ensemble"

/** Options both targets understand. */
export interface TargetOptions {
  /** Default 2000. */
  readonly tickTime?: number
  /** zoo.cfg keys (ezk: `--set key=value`). */
  readonly config?: Readonly<Record<string, string | number | boolean>>
  /** Extra `ezk server` arguments, after the ones from the options above (ezk only; flags beat `--set`). */
  readonly ezkArgs?: ReadonlyArray<string>
  /** Extra JVM flags (zookeeper only): system properties zoo.cfg cannot set, e.g. `-Djute.maxbuffer=`. */
  readonly zookeeperJvmFlags?: ReadonlyArray<string>
}

/** A started server of either kind. */
export interface TargetServer {
  readonly name: TargetName
  readonly host: string
  readonly port: number
  readonly connectString: string
  readonly dataDir: string
  readonly pid: () => number | undefined
  readonly fourLetterWord: (cmd: string) => Promise<string>
  /** SIGKILL the process and wait until it is gone; data stays. */
  readonly kill9: () => Promise<void>
  /** Starts the server again on the same port and data (SIGTERM first if it still runs). */
  readonly restart: () => Promise<void>
  /** Stops the process and removes its temp dir. Idempotent. */
  readonly stop: () => Promise<void>
  /** Captured server output (for failure messages). */
  readonly output: () => string
  /** The underlying handle, for target-specific needs (e.g. ezk's `start({ wait: false })`). */
  readonly ezk?: EzkServer
  readonly zookeeper?: ApacheZk
  readonly ensemble?: MixedEnsemble
}

export interface Target {
  readonly name: TargetName
  /** Whether the suite should run (false → skipped). */
  readonly available: () => boolean
  readonly start: (options?: TargetOptions) => Promise<TargetServer>
}

const fromEzk = (s: EzkServer): TargetServer => ({
  name: "ezk",
  host: s.host,
  port: s.port,
  connectString: s.connectString,
  dataDir: s.dataDir,
  pid: s.pid,
  fourLetterWord: s.fourLetterWord,
  kill9: s.kill9,
  restart: () => s.start(),
  stop: s.stop,
  output: s.output,
  ezk: s
})

const fromZk = (zk: ApacheZk): TargetServer => ({
  name: "zookeeper",
  host: zk.host,
  port: zk.port,
  connectString: zk.connectString,
  dataDir: zk.dataDir,
  pid: zk.pid,
  fourLetterWord: zk.fourLetterWord,
  kill9: async () => {
    const pid = zk.pid()
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
    // Waits for the exit (its SIGTERM to the dying JVM is harmless).
    await zk.kill()
  },
  restart: () => zk.start(),
  stop: zk.stop,
  output: zk.output,
  zookeeper: zk
})

export const ezkTarget: Target = {
  name: "ezk",
  // Always "available": a missing build must fail the suite, not skip it.
  available: () => true,
  start: async (options = {}) =>
    fromEzk(
      await startEzk({
        ...(options.tickTime !== undefined ? { tickTime: options.tickTime } : {}),
        ...(options.config !== undefined ? { config: options.config } : {}),
        ...(options.ezkArgs !== undefined ? { args: options.ezkArgs } : {})
      })
    )
}

export const zookeeperTarget: Target = {
  name: "zookeeper",
  available: () => !noApacheZk(),
  start: async (options = {}) =>
    fromZk(
      await startApacheZk({
        ...(options.tickTime !== undefined ? { tickTime: options.tickTime } : {}),
        ...(options.config !== undefined ? { config: options.config } : {}),
        ...(options.zookeeperJvmFlags !== undefined ? { jvmFlags: options.zookeeperJvmFlags } : {})
      })
    )
}

const unsupported = (what: string) => () => Promise.reject(new Error(`${what} is not supported on an ensemble target`))

/** A 3-peer ensemble of one kind; `TargetOptions` other than tickTime do not apply (checked). */
const ensembleTarget = (name: TargetName, kind: PeerKind, available: () => boolean): Target => ({
  name,
  available,
  start: async (options = {}) => {
    if (options.config !== undefined || options.ezkArgs !== undefined || options.zookeeperJvmFlags !== undefined) {
      throw new Error(`${name}: only tickTime can be set on an ensemble target`)
    }
    const ensemble = await startMixedEnsemble({
      peers: [1, 2, 3].map((sid) => ({ sid, kind })),
      // As the standalone targets: TTL nodes on (zkCli/cli_mt scripts create them).
      extendedTypes: true,
      ...(options.tickTime !== undefined ? { tickTime: options.tickTime } : {})
    })
    try {
      // Within the 60 s hook timeout, so that a failure prints every peer's log.
      await ensemble.ready(45_000)
    } catch (e) {
      await ensemble.stop()
      throw e
    }
    const first = ensemble.peers[0]!
    return {
      name,
      host: "127.0.0.1",
      port: first.clientPort,
      connectString: ensemble.peers.map((p) => p.connectString).join(","),
      dataDir: first.dataDir,
      pid: first.pid,
      fourLetterWord: (cmd) => fourLetterWord(first.clientPort, cmd),
      kill9: unsupported("kill9"),
      restart: unsupported("restart"),
      stop: ensemble.stop,
      output: ensemble.logs,
      ensemble
    }
  }
})

export const ezkEnsembleTarget = ensembleTarget("ezk-ensemble", "ezk", () => true)
export const zookeeperEnsembleTarget = ensembleTarget("zookeeper-ensemble", "zk", zookeeperTarget.available)

/** Every target, ezk first. Ensemble targets run only where a suite asks for them. */
export const targets: ReadonlyArray<Target> = [ezkTarget, zookeeperTarget, ezkEnsembleTarget, zookeeperEnsembleTarget]
const ensembleTargets: ReadonlyArray<TargetName> = ["ezk-ensemble", "zookeeper-ensemble"]

/** Whether EZK_TEST_TARGETS selects this target (unset/empty = all). */
export const selected = (name: TargetName): boolean => {
  const env = process.env.EZK_TEST_TARGETS
  return env === undefined || env.trim() === "" || env.split(",").map((s) => s.trim()).includes(name)
}

/** What a suite body gets. `server()` is valid inside tests and hooks. */
export interface TargetUnderTest {
  readonly name: TargetName
  readonly server: () => TargetServer
}

/**
 * `describe("<title> [<target>]", body)` once per selected, available target, with a server started
 * before the suite and stopped after it. `only` limits the targets (e.g. ezk-only crash suites);
 * `ensembles: true` adds the 3-peer ensemble targets (client-facing suites: the same expectations
 * must hold whichever peer the client reaches).
 */
export const describeTargets = (
  title: string,
  body: (t: TargetUnderTest) => void,
  options: TargetOptions & { readonly only?: ReadonlyArray<TargetName>; readonly ensembles?: boolean } = {}
): void => {
  const { only, ensembles, ...targetOptions } = options
  for (const target of targets) {
    if (only !== undefined && !only.includes(target.name)) continue
    if (ensembleTargets.includes(target.name) && ensembles !== true) continue
    describe.skipIf(!selected(target.name) || !target.available())(`${title} [${target.name}]`, () => {
      let running: TargetServer | undefined
      // Kept so that a start still in progress when beforeAll times out is stopped by afterAll
      // anyway (a server that comes up after its suite gave up must not outlive the run).
      let starting: Promise<TargetServer> | undefined
      beforeAll(async () => {
        starting = target.start(targetOptions)
        running = await starting
      })
      afterAll(async () => {
        const server = running ?? (await starting?.catch(() => undefined))
        await server?.stop()
      })
      body({
        name: target.name,
        server: () => {
          if (running === undefined) throw new Error(`${target.name} is not running`)
          return running
        }
      })
    })
  }
}
