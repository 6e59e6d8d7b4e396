/**
 * A loopback TCP proxy for failure tests: it can cut its connections, refuse or hold new ones
 * (a server that is unreachable / slow to answer), or freeze live ones (a silent partition).
 */
import * as net from "node:net"

/** What happens to new connections. */
export type ProxyMode = "forward" | "refuse" | "hold"

export interface Proxy {
  readonly port: number
  readonly connectString: string
  /** Connections accepted so far. */
  readonly accepted: () => number
  /** Connections currently forwarded. */
  readonly active: () => number
  /** Changes the mode; switching to "forward" releases held connections. */
  readonly setMode: (mode: ProxyMode) => void
  /** Destroys every live and held connection. */
  readonly cut: () => void
  /** Live connections stay open but drop every byte from now on. */
  readonly freeze: () => void
  readonly close: () => Promise<void>
}

interface Pair {
  readonly client: net.Socket
  upstream: net.Socket | null
  frozen: boolean
}

/** Starts a proxy on a free port forwarding to `host:port`. */
export const startProxy = (target: { readonly host: string; readonly port: number }): Promise<Proxy> =>
  new Promise((resolve, reject) => {
    let mode: ProxyMode = "forward"
    let accepted = 0
    const pairs = new Set<Pair>()
    const held: Array<Pair> = []

    const destroy = (pair: Pair) => {
      pairs.delete(pair)
      pair.client.destroy()
      pair.upstream?.destroy()
    }

    const connect = (pair: Pair) => {
      const upstream = net.connect(target)
      pair.upstream = upstream
      upstream.on("data", (d: Buffer) => {
        if (!pair.frozen) pair.client.write(d)
      })
      pair.client.on("data", (d: Buffer) => {
        if (!pair.frozen) upstream.write(d)
      })
      upstream.on("close", () => destroy(pair))
      upstream.on("error", () => destroy(pair))
      pair.client.resume()
    }

    const server = net.createServer((client) => {
      accepted++
      if (mode === "refuse") {
        client.destroy()
        return
      }
      client.pause()
      const pair: Pair = { client, upstream: null, frozen: false }
      pairs.add(pair)
      client.on("close", () => destroy(pair))
      client.on("error", () => destroy(pair))
      if (mode === "hold") held.push(pair)
      else connect(pair)
    })
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolve({
        port,
        connectString: `127.0.0.1:${port}`,
        accepted: () => accepted,
        active: () => [...pairs].filter((p) => p.upstream !== null && !p.frozen).length,
        setMode: (next) => {
          mode = next
          if (next === "forward") {
            for (const pair of held.splice(0)) if (pairs.has(pair)) connect(pair)
          }
        },
        cut: () => {
          held.length = 0
          for (const pair of [...pairs]) destroy(pair)
        },
        freeze: () => {
          for (const pair of pairs) pair.frozen = true
        },
        close: () =>
          new Promise<void>((done) => {
            held.length = 0
            for (const pair of [...pairs]) destroy(pair)
            server.close(() => done())
          })
      })
    })
  })
