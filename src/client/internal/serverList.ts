/**
 * The servers a session may connect to, in turn (ZooKeeper's StaticHostProvider without its
 * resolution, which the driver does per attempt). The list can be replaced at runtime
 * (`updateServerList`); whether the current server is still listed decides if the session moves.
 */
import { Effect, Random } from "effect"
import { parse, type Server } from "../ConnectString.js"
import { KeeperError } from "../ZooKeeperError.js"

/** Where a link is connected: the listed server, and the address its name resolved to. */
export interface Endpoint {
  readonly server: Server
  readonly address: string
}

/** Whether `servers` lists the endpoint's server, by the name it was listed as or by its address. */
export const lists = (servers: ReadonlyArray<Server>, endpoint: Endpoint): boolean =>
  servers.some((s) => s.port === endpoint.server.port && (s.host === endpoint.server.host || s.host === endpoint.address))

/** The list and the turn: round robin from a start the caller picks (at random, to spread clients). */
export class ServerList {
  private index = 0
  constructor(private list: ReadonlyArray<Server>) {}

  get servers(): ReadonlyArray<Server> {
    return this.list
  }

  get size(): number {
    return this.list.length
  }

  /** The server to try next; the turn moves on. */
  next(): Server {
    const server = this.list[this.index % this.list.length]!
    this.index = (this.index + 1) % this.list.length
    return server
  }

  /** Replaces the list (non-empty); the next attempt starts at `start`. */
  replace(servers: ReadonlyArray<Server>, start: number): void {
    this.list = servers
    this.index = start % servers.length
  }

  /** Makes `start` the next server tried. */
  startAt(start: number): void {
    this.index = start % this.list.length
  }
}

/** What `updateServerList` changes: the session's engine (connection.ts). */
export interface Reconfigurable {
  readonly config: { readonly chroot: string }
  readonly updateServers: (servers: ReadonlyArray<Server>, start: number) => void
}

/**
 * `Client.updateServerList`: parses the connect string (a chroot, if any, must be the session's)
 * and replaces the list, the next attempt starting at a random server of it.
 */
export const updateServerList = (session: Reconfigurable, connectString: string): Effect.Effect<void, KeeperError> =>
  Effect.gen(function*() {
    const bad = (why: string) => new KeeperError({ code: "BadArguments", path: `connect string: ${why}` })
    const parsed = parse(connectString)
    if (typeof parsed === "string") return yield* bad(parsed)
    const chroot = session.config.chroot
    if (parsed.chroot !== "" && parsed.chroot !== chroot) return yield* bad(`chroot "${parsed.chroot}" is not the session's ("${chroot}")`)
    session.updateServers(parsed.servers, yield* Random.nextIntBetween(0, parsed.servers.length))
  })
