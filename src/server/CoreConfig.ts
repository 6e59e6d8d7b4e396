/**
 * What the client-facing pipeline (ServerCore) is given from outside: its settings (a slice of
 * ZkConfig), its clock and its logger. Plain data, so the core stays pure and a test can build one.
 */

/** Settings the pipeline needs (a slice of ZkConfig). */
export interface CoreConfig {
  readonly serverId: number
  readonly tickTime: number
  readonly minSessionTimeout: number
  readonly maxSessionTimeout: number
  /** Per remote IP; 0 = unlimited. */
  readonly maxClientCnxns: number
  readonly maxFrame: number
  readonly extendedTypes: boolean
  readonly digestEnabled: boolean
  /** SASL users from the JAAS Server section, or null when SASL is not configured. */
  readonly saslUsers: ReadonlyMap<string, string> | null
  readonly saslSuperUser?: string | undefined
  /** `authProvider.N=…SASLAuthenticationProvider`: `sasl:` ACL entries are valid (else InvalidACL, as in ZooKeeper). */
  readonly saslAclEnabled: boolean
  /** znode.container.maxNeverUsedIntervalMs (0 = never reap never-used containers). */
  readonly containerMaxNeverUsedMs: number
  /** znode.container.maxPerMinute */
  readonly containerMaxPerMinute: number
  /** zookeeper.nio.sessionlessCnxnTimeout: how long a connection may stay without a session. */
  readonly sessionlessCnxnTimeoutMs: number
  /** globalOutstandingLimit: above this many uncommitted writes, clients are not read from. */
  readonly outstandingLimit: number
  /** enforce.auth: a session must hold an id of one of these schemes for anything but auth/SASL; empty = off. */
  readonly enforceAuthSchemes?: ReadonlyArray<string>
}

/** Time as the pipeline sees it: wall clock for txn times, monotonic for session ids. */
export interface CoreClock {
  readonly nowMs: () => number
  readonly monotonicMs: () => number
}

/** Where the pipeline logs (the shell routes it to Effect's logger). */
export interface CoreLogger {
  readonly debug: (message: string) => void
  readonly info: (message: string) => void
  readonly warn: (message: string) => void
  readonly error: (message: string) => void
}
