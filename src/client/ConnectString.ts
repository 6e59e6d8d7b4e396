/**
 * The ZooKeeper connect string: `host:port,host:port[/chroot]`, as the Java client accepts it
 * (ConnectStringParser). IPv6 hosts are written in brackets: `[::1]:2181`.
 */

/** One server of the connect string. */
export interface Server {
  readonly host: string
  readonly port: number
}

/** A parsed connect string. `chroot` is "" when there is none. */
export interface ConnectString {
  readonly servers: ReadonlyArray<Server>
  readonly chroot: string
}

/** ZooKeeper's default client port, used when a host has none. */
export const defaultPort = 2181

/** Parses a connect string; returns an error message instead of throwing. */
export const parse = (input: string): ConnectString | string => {
  let hosts = input.trim()
  let chroot = ""
  const slash = hosts.indexOf("/")
  if (slash >= 0) {
    chroot = hosts.slice(slash)
    hosts = hosts.slice(0, slash)
    // "/" alone means no chroot (Java: ConnectStringParser).
    if (chroot === "/") chroot = ""
    else if (chroot.endsWith("/") || chroot.includes("//")) return `invalid chroot "${chroot}"`
  }
  const servers: Array<Server> = []
  for (const raw of hosts.split(",")) {
    const part = raw.trim()
    if (part === "") continue
    let host: string
    let portText: string | undefined
    if (part.startsWith("[")) {
      const close = part.indexOf("]")
      if (close < 0) return `invalid host "${part}"`
      host = part.slice(1, close)
      const rest = part.slice(close + 1)
      if (rest !== "" && !rest.startsWith(":")) return `invalid host "${part}"`
      portText = rest === "" ? undefined : rest.slice(1)
    } else {
      const colon = part.lastIndexOf(":")
      host = colon < 0 ? part : part.slice(0, colon)
      portText = colon < 0 ? undefined : part.slice(colon + 1)
    }
    const port = portText === undefined ? defaultPort : Number(portText)
    if (host === "" || !Number.isInteger(port) || port <= 0 || port > 65535) return `invalid server "${part}"`
    servers.push({ host, port })
  }
  if (servers.length === 0) return `no servers in "${input}"`
  return { servers, chroot }
}

/** Prefixes a client path with the chroot (server path). */
export const toServerPath = (chroot: string, path: string): string =>
  chroot === "" ? path : path === "/" ? chroot : chroot + path

/** Strips the chroot from a server path (client path); paths outside the chroot are kept. */
export const toClientPath = (chroot: string, path: string): string => {
  if (chroot === "" || !path.startsWith(chroot)) return path
  if (path.length === chroot.length) return "/"
  return path.charCodeAt(chroot.length) === 47 /* "/" */ ? path.slice(chroot.length) : path
}
