/**
 * Runs a client suite against every available server target: ezk (the built CLI as a child
 * process) and Apache ZooKeeper 3.8 ("zookeeper"), so the suites prove our client and server
 * against the real thing. Suites about client-visible behaviour also run on a 3-peer ezk ensemble
 * in process ("in-process-ensemble": src/quorum/Testing.ts on the memory network, in virtual time,
 * one ensemble per test), where a client lands on a follower as often as on the leader. Select
 * targets with EZK_TEST_TARGETS=zookeeper,ezk,in-process-ensemble (default: all available).
 */
import { afterAll, beforeAll, describe, it } from "@effect/vitest"
import { Duration, Effect, type Scope } from "effect"
import { Transport } from "../../src/net/Transport.js"
import * as Testing from "../../src/quorum/Testing.js"
import * as SimTime from "../../src/sim/SimTime.js"
import { apacheZkAvailable, startApacheZk } from "../support/apacheZk.js"
import { startEzk } from "../support/ezkServer.js"
import { missingTool } from "../support/requireTool.js"

/** A server started for one suite. */
export interface RunningServer {
  readonly connectString: string
  readonly stop: () => Promise<void>
  /** Stops and restarts the server on the same address with the same data. */
  readonly restart: () => Promise<void>
}

/** Something the client suites can run against. */
export interface ServerTarget {
  readonly name: string
  readonly available: () => boolean
  readonly start: () => Promise<RunningServer>
}

/** A test body: it connects with `connectString()` and the ambient Transport. */
export type TestBody = () => Effect.Effect<void, unknown, Scope.Scope>

/** What a suite body gets: the target's name and its address (valid inside tests/hooks). */
export interface ServerUnderTest {
  readonly name: string
  readonly connectString: () => string
  readonly restart: () => Promise<void>
  /** The address the server sees a client connect from (its `ip` identity). */
  readonly clientAddress: string
  /** Declares a test of this target (on a real server: `it.scopedLive`). */
  readonly it: (name: string, body: TestBody) => void
}

/** Every known target. */
export const targets: Array<ServerTarget> = [
  {
    name: "ezk",
    // Always "available": a missing build must fail the suite, not skip it.
    available: () => true,
    start: async () => {
      const ezk = await startEzk()
      return {
        connectString: ezk.connectString,
        stop: ezk.stop,
        restart: async () => {
          await ezk.kill9()
          await ezk.start()
        }
      }
    }
  },
  {
    name: "zookeeper",
    available: () => !missingTool("Apache ZooKeeper 3.8 (zookeeper.jar)", apacheZkAvailable(), "apt-get install zookeeper"),
    start: async () => {
      const zk = await startApacheZk()
      return {
        connectString: zk.connectString,
        stop: zk.stop,
        restart: async () => {
          await zk.kill()
          await zk.start()
        }
      }
    }
  }
]

const selected = (name: string): boolean => {
  const env = process.env.EZK_TEST_TARGETS
  return env === undefined || env === "" || env.split(",").map((s) => s.trim()).includes(name)
}

/** `describe(title [target], body)` once per selected, available target, with the server started around it. */
export const describeServers = (title: string, body: (server: ServerUnderTest) => void): void => {
  for (const target of targets) {
    describe.skipIf(!selected(target.name) || !target.available())(`${title} [${target.name}]`, () => {
      let running: RunningServer | undefined
      beforeAll(async () => {
        running = await target.start()
      })
      afterAll(async () => {
        await running?.stop()
      })
      body({
        name: target.name,
        connectString: () => {
          if (running === undefined) throw new Error(`${target.name} is not running`)
          return running.connectString
        },
        restart: async () => {
          if (running === undefined) throw new Error(`${target.name} is not running`)
          await running.restart()
        },
        clientAddress: "127.0.0.1",
        it: (name, test) => it.scopedLive(name, test)
      })
    })
  }
}

const ensembleConnectString = "s1:2181,s2:2181,s3:2181"

/**
 * Runs `body` on a fresh 3-peer ensemble in virtual time: s3 leads (fixed, so no election time),
 * tickTime 500 (sessions up to 10 s), extended types on as on the ezk target.
 */
const onInProcessEnsemble = (body: TestBody) =>
  SimTime.run(Effect.scoped(Effect.gen(function*() {
    const ens = yield* Testing.ensemble({ nodes: 3, leader: 3, tickTime: 500, config: { extendedTypesEnabled: true } })
    for (let t = 0; !ens.peers.every((p) => p.running()?.core() != null); t += 50) {
      if (t > 60_000) return yield* Effect.dieMessage("the in-process ensemble did not serve within 60 virtual s")
      yield* Effect.sleep(Duration.millis(50))
    }
    // Virtual time runs as fast as the CPU allows (a stuck test would spin, never hitting vitest's timeout).
    yield* Effect.provideService(body(), Transport, ens.clientTransport("client")).pipe(
      Effect.timeoutFail({ duration: Duration.minutes(2), onTimeout: () => new Error("not done within 2 virtual minutes") })
    )
  })))

/**
 * Like `describeServers`, plus the in-process ensemble. For suites whose tests are about what a
 * client sees, which must hold on an ensemble as on a standalone server.
 */
export const describeServersAndEnsemble = (title: string, body: (server: ServerUnderTest) => void): void => {
  describeServers(title, body)
  describe.skipIf(!selected("in-process-ensemble"))(`${title} [in-process-ensemble]`, () => {
    body({
      name: "in-process-ensemble",
      connectString: () => ensembleConnectString,
      restart: () => Promise.reject(new Error("restart is not available on the in-process ensemble")),
      clientAddress: "client",
      it: (name, test) => it.effect(name, () => onInProcessEnsemble(test))
    })
  })
}
