/**
 * Runs a client suite against every available server target: ezk (the built CLI as a child
 * process) and Apache ZooKeeper 3.8 ("zookeeper"), so the suites prove our client and server
 * against the real thing. Select targets with EZK_TEST_TARGETS=zookeeper,ezk (default: all available).
 */
import { afterAll, beforeAll, describe } from "@effect/vitest"
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

/** What a suite body gets: the target's name and its address (valid inside tests/hooks). */
export interface ServerUnderTest {
  readonly name: string
  readonly connectString: () => string
  readonly restart: () => Promise<void>
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
        }
      })
    })
  }
}
