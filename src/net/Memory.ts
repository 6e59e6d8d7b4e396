/**
 * An in-memory network for running a whole ensemble and its clients in one process on TestClock.
 *
 * Each simulated machine is a host name with its own Transport (`transportFor(host)`); the network
 * knows which host every connection runs between, so faults are between hosts. Every byte is
 * delivered by a fiber sleeping on Effect's Clock (never in the writer's call stack, even at zero
 * latency), and latency jitter and chunking come from one seeded PRNG: a seed replays a run exactly.
 *
 * TCP's guarantee holds: each connection delivers its bytes in order, exactly once, until it
 * breaks. Writes may be split and coalesced (as TCP does), so readers must reassemble frames.
 * Faults:
 * - latency + jitter per link; `stall(a, b, ms)` holds bytes between two hosts for a while;
 * - `partition(a, b)` / `partitionOneWay(from, to)`: bytes stop flowing (connects time out). An
 *   established connection stalls; after `heal` its stalled bytes arrive, unless the partition lasted
 *   `partitionResetAfterMs` (if set): then its connections are reset, as TCP's retransmission timeout does;
 * - `reset(a, b)`: both ends see `error(Reset)` then `close(true)`; later writes are dropped;
 * - `refuse(host, port?)`: connects fail with Refused, as to a port nobody listens on;
 * - `abandon(host, lingerMs)`: the host's side of each of its connections breaks at once (as when
 *   its process resets them and reconnects), while the bytes it had sent still arrive at the other
 *   side `lingerMs` later — after any new connection the host makes — and only then the reset.
 * Names: a host name resolves to itself; `setAddresses(name, hosts)` plays DNS for other names
 * (and can move a name to another host, or make it unresolvable).
 */
import { Context, Duration, Effect, FiberSet, type Scope } from "effect"
import { makePrng } from "./internal/prng.js"
import type { ConnectOptions, ListenOptions, Socket, TransportService } from "./Socket.js"
import { TransportError } from "./Socket.js"
import { type Conn, makeLinks } from "./internal/memoryConn.js"

/** Plain callbacks at a virtual time (SimTime provides it): deliveries then need no fiber each. `after` never calls `f` in the caller's stack. */
export class DirectTimer extends Context.Reference<DirectTimer>()("ezk/net/Memory/DirectTimer", {
  defaultValue: (): { readonly after: ((delayMs: number, f: () => void) => void) | null } => ({ after: null })
}) {}

/** How the network behaves; every field has a default. */
export interface NetworkOptions {
  /** Seeds jitter and chunking. */
  readonly seed?: number
  /** One-way delay of every link unless `setLatency` overrides it (default 0). */
  readonly latencyMs?: number
  /** Extra one-way delay drawn uniformly from [0, jitterMs] per segment (default 0). */
  readonly jitterMs?: number
  /** Split writes and coalesce deliveries at seeded points (default true, as TCP may). */
  readonly chunking?: boolean
  /** Bytes queued on a connection's side above which `write` returns false (default 64 KiB). */
  readonly highWaterBytes?: number
  /** A connect that cannot reach its host fails with Timeout after this long (default 10 s). */
  readonly connectTimeoutMs?: number
  /** A partition lasting this long resets the connections it cuts (default: never; they resume on heal). */
  readonly partitionResetAfterMs?: number
  /** Record every delivery in `trace` (for determinism checks). */
  readonly trace?: boolean
}

/** The simulated network and its fault controls. */
export interface Network {
  /** The Transport of the machine called `host` (its loopback names resolve to it). */
  readonly transportFor: (host: string) => TransportService
  /**
   * Makes `name` resolve to `hosts` (a DNS record; [] removes it, and the name no longer
   * resolves). Host names and loopback names resolve to themselves without a record.
   */
  readonly setAddresses: (name: string, hosts: ReadonlyArray<string>) => void
  readonly setLatency: (a: string, b: string, latencyMs: number, jitterMs?: number) => void
  readonly stall: (a: string, b: string, durationMs: number) => void
  readonly partition: (a: string, b: string) => void
  readonly partitionOneWay: (from: string, to: string) => void
  /** Heals the partitions between a and b, or every partition. */
  readonly heal: (a?: string, b?: string) => void
  /** Breaks every connection between a and b (or every connection of a). */
  readonly reset: (a: string, b?: string) => void
  readonly refuse: (host: string, port?: number) => void
  /**
   * SIGSTOP as the network sees it: connects to the host still complete (its kernel accepts them) but
   * the host's listener hears of them, and its sockets read, only after `thaw`.
   */
  readonly freeze: (host: string) => void
  readonly thaw: (host: string) => void
  /** Breaks the host's side of its connections now; what it sent arrives `lingerMs` later, then the reset. */
  readonly abandon: (host: string, lingerMs: number) => void
  readonly unrefuse: (host: string, port?: number) => void
  /** Open connections (both ends not yet closed). */
  readonly connectionCount: () => number
  /** "ms-since-start from>to bytes" per delivery, when `trace` is on. */
  readonly trace: ReadonlyArray<string>
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""])

/** Makes a network whose delivery fibers live in the current scope and run on its Clock. */
export const makeNetwork = (options: NetworkOptions = {}): Effect.Effect<Network, never, Scope.Scope> =>
  Effect.gen(function*() {
    const run = yield* FiberSet.makeRuntime<never>()
    const clock = yield* Effect.clock
    const now = () => clock.unsafeCurrentTimeMillis()
    const random = makePrng(options.seed ?? 1)
    const highWater = options.highWaterBytes ?? 64 * 1024
    const chunking = options.chunking ?? true
    const trace: Array<string> = []
    const startedAt = now()

    const hosts = new Set<string>()
    const records = new Map<string, ReadonlyArray<string>>()
    const listeners = new Map<string, { readonly onSocket: (s: Socket) => void; readonly allowHalfOpen: boolean }>()
    const nextPort = new Map<string, number>()
    const latency = new Map<string, { readonly latencyMs: number; readonly jitterMs: number }>()
    const cut = new Map<string, number>() // "from>to" → partition generation
    const stalledUntil = new Map<string, number>()
    const refused = new Set<string>()
    let generation = 0

    const key = (from: string, to: string) => `${from}>${to}`
    const blocked = (from: string, to: string) => cut.has(key(from, to)) || (stalledUntil.get(key(from, to)) ?? 0) > now()
    const delayOf = (from: string, to: string): number => {
      const l = latency.get(key(from, to)) ?? { latencyMs: options.latencyMs ?? 0, jitterMs: options.jitterMs ?? 0 }
      return l.latencyMs + Math.floor(random() * (l.jitterMs + 1))
    }
    const direct = (yield* DirectTimer).after
    let open = true
    yield* Effect.addFinalizer(() => Effect.sync(() => void (open = false)))
    /** Runs f after delayMs (at 0: after a yield, without waiting for the clock): never in the caller's stack. */
    const later = (delayMs: number, f: () => void): void =>
      direct !== null
        ? direct(delayMs, () => open && f())
        : void run(Effect.zipRight(delayMs > 0 ? Effect.sleep(Duration.millis(delayMs)) : Effect.yieldNow(), Effect.sync(f)))
    const kickAll = (pred: (c: Conn) => boolean) =>
      later(0, () => {
        for (const c of [...conns]) {
          if (!pred(c)) continue
          deliver(c.a)
          deliver(c.b)
        }
      })
    const between = (c: Conn, a: string, b?: string) =>
      b === undefined ? c.a.host === a || c.b.host === a : (c.a.host === a && c.b.host === b) || (c.a.host === b && c.b.host === a)

    const frozenHosts = new Set<string>()
    /** Accepts a frozen host's listeners have not yet heard of, in order. */
    const heldAccepts: Array<{ readonly host: string; readonly accept: () => void }> = []
    const links = makeLinks({ now, random, later, blocked, frozen: (host) => frozenHosts.has(host), delayOf, chunking, highWater, trace: options.trace === true ? trace : null, startedAt })
    const { conns, deliver, breakConn, socketOf } = links

    const ephemeral = (host: string): number => {
      const port = nextPort.get(host) ?? 40000
      nextPort.set(host, port + 1)
      return port
    }

    const transportFor = (self: string): TransportService => {
      hosts.add(self)
      const resolve = (host: string) => (LOOPBACK.has(host) ? self : host)
      const listen = (o: ListenOptions, onSocket: (s: Socket) => void) =>
        Effect.acquireRelease(
          Effect.suspend(() => {
            const port = o.port === 0 ? ephemeral(self) : o.port
            const address = `${self}:${port}`
            if (listeners.has(address)) return Effect.fail(new TransportError({ reason: "AddressInUse", address }))
            listeners.set(address, { onSocket, allowHalfOpen: o.allowHalfOpen ?? false })
            return Effect.succeed({ host: self, port })
          }),
          (bound) => Effect.sync(() => listeners.delete(`${bound.host}:${bound.port}`))
        )
      const connect = (o: ConnectOptions): Effect.Effect<Socket, TransportError> => {
        const to = resolve(o.host)
        const address = `${to}:${o.port}`
        const attempt = Effect.suspend((): Effect.Effect<Socket, TransportError> => {
          if (!hosts.has(to)) return Effect.fail(new TransportError({ reason: "Unreachable", address, detail: "no such host" }))
          if (blocked(self, to) || blocked(to, self)) {
            const waitMs = o.timeoutMs ?? options.connectTimeoutMs ?? 10_000
            return Effect.zipRight(Effect.sleep(Duration.millis(waitMs)), Effect.fail(new TransportError({ reason: "Timeout", address, detail: "partitioned" })))
          }
          return Effect.zipRight(
            Effect.sleep(Duration.millis(delayOf(self, to) + delayOf(to, self))),
            Effect.suspend(() => {
              const listener = listeners.get(address)
              if (listener === undefined || refused.has(to) || refused.has(address)) {
                return Effect.fail(new TransportError({ reason: "Refused", address }))
              }
              const conn = links.open({ host: self, port: ephemeral(self) }, { host: to, port: o.port, allowHalfOpen: listener.allowHalfOpen })
              // A held accept of a connection reset meanwhile never reaches the listener.
              const accept = () => void (conn.broken || listener.onSocket(socketOf(conn.b)))
              if (frozenHosts.has(to)) heldAccepts.push({ host: to, accept })
              else accept()
              return Effect.succeed(socketOf(conn.a))
            })
          )
        })
        return o.timeoutMs === undefined
          ? attempt
          : Effect.timeoutFail(attempt, { duration: o.timeoutMs, onTimeout: () => new TransportError({ reason: "Timeout", address }) })
      }
      const lookup = (name: string): Effect.Effect<ReadonlyArray<string>, TransportError> => {
        const record = records.get(name)
        if (record !== undefined) return Effect.succeed(record)
        if (LOOPBACK.has(name) || hosts.has(name)) return Effect.succeed([name])
        return Effect.fail(new TransportError({ reason: "NotFound", address: name }))
      }
      return { listen, connect, resolve: lookup }
    }

    const partitionOneWay = (from: string, to: string): void => {
      if (cut.has(key(from, to))) return
      const g = ++generation
      cut.set(key(from, to), g)
      const after = options.partitionResetAfterMs
      if (after === undefined) return
      later(after, () => {
        if (cut.get(key(from, to)) !== g) return
        for (const c of [...conns]) if (between(c, from, to)) breakConn(c, `${from}>${to}`)
      })
    }

    return {
      transportFor,
      setAddresses: (name, list) => void (list.length === 0 ? records.delete(name) : records.set(name, [...list])),
      setLatency: (a, b, latencyMs, jitterMs = 0) => {
        latency.set(key(a, b), { latencyMs, jitterMs })
        latency.set(key(b, a), { latencyMs, jitterMs })
      },
      stall: (a, b, durationMs) => {
        const until = now() + durationMs
        stalledUntil.set(key(a, b), until)
        stalledUntil.set(key(b, a), until)
        later(durationMs, () => kickAll((c) => between(c, a, b)))
      },
      partition: (a, b) => {
        partitionOneWay(a, b)
        partitionOneWay(b, a)
      },
      partitionOneWay,
      heal: (a, b) => {
        if (a === undefined) cut.clear()
        else if (b === undefined) {
          for (const k of [...cut.keys()]) if (k.split(">").includes(a)) cut.delete(k)
        }
        else {
          cut.delete(key(a, b))
          cut.delete(key(b, a))
        }
        kickAll(() => true)
      },
      reset: (a, b) => {
        for (const c of [...conns]) if (between(c, a, b)) breakConn(c, b === undefined ? a : `${a}<>${b}`)
      },
      abandon: (host, lingerMs) => {
        for (const c of [...conns]) {
          if (c.broken || !between(c, host)) continue
          const mine = c.a.host === host ? c.a : c.b
          if (mine.closed) continue
          // The host sees its side reset now; bytes towards it are dropped (its side is closed).
          mine.closed = true
          later(0, () => {
            mine.handlers.error?.(new TransportError({ reason: "Reset", address: host }))
            mine.handlers.close?.(true)
          })
          mine.heldUntil = now() + lingerMs
          later(Math.max(lingerMs, mine.lastDue - now()), () => {
            deliver(mine)
            breakConn(c, host)
          })
        }
      },
      freeze: (host) => void frozenHosts.add(host),
      thaw: (host) => {
        if (!frozenHosts.delete(host)) return
        const held = heldAccepts.filter((h) => h.host === host)
        heldAccepts.splice(0, heldAccepts.length, ...heldAccepts.filter((h) => h.host !== host))
        later(0, () => {
          for (const h of held) h.accept()
        })
        kickAll((c) => between(c, host))
      },
      refuse: (host, port) => void refused.add(port === undefined ? host : `${host}:${port}`),
      unrefuse: (host, port) => void refused.delete(port === undefined ? host : `${host}:${port}`),
      connectionCount: () => conns.size,
      trace
    }
  })
