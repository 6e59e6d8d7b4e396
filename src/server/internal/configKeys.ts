/**
 * Which zoo.cfg keys ezk applies, ignores (with an info note) or warns about, and their canonical
 * spelling. Every key ZooKeeper 3.8 reads is listed somewhere here, so nothing is silently accepted.
 */
/**
 * Keys QuorumPeerConfig parses itself (zoo.cfg-native). Any other key is, in ZooKeeper, turned into the
 * system property `zookeeper.<key>`; ezk therefore also accepts the `zookeeper.<key>` spelling of those
 * (what users have in JVMFLAGS), which ZooKeeper itself would not read from zoo.cfg.
 */
const CFG_KEYS = new Set([
  "dataDir",
  "dataLogDir",
  "clientPort",
  "clientPortAddress",
  "secureClientPort",
  "secureClientPortAddress",
  "clientPortListenBacklog",
  "tickTime",
  "maxClientCnxns",
  "minSessionTimeout",
  "maxSessionTimeout",
  "initLimit",
  "syncLimit",
  "electionAlg",
  "quorumListenOnAllIPs",
  "peerType",
  "dynamicConfigFile",
  "autopurge.snapRetainCount",
  "autopurge.purgeInterval",
  "standaloneEnabled",
  "sslQuorum",
  "portUnification",
  "sslQuorumReloadCertFiles",
  "client.portUnification",
  "ezk.log.level",
  "ezk.log.format"
])

/** Keys ezk applies, or keeps for the quorum work, beyond CFG_KEYS (system-property style). */
const APPLIED_KEYS = new Set([
  "snapCount",
  "snapshotSizeFactor",
  "4lw.commands.whitelist",
  "extendedTypesEnabled",
  "jute.maxbuffer",
  "superDigest",
  "jaasLoginConfig",
  "sasl.serverconfig",
  "readonlymode.enabled",
  "sessionRequireClientSASLAuth",
  "enforce.auth.enabled",
  "enforce.auth.schemes",
  "digest.enabled",
  "preAllocSize",
  "superUser",
  "globalOutstandingLimit",
  "nio.sessionlessCnxnTimeout",
  "znode.container.checkIntervalMs",
  "znode.container.maxNeverUsedIntervalMs",
  "znode.container.maxPerMinute",
  // Election keys (system properties in ZooKeeper): decoded into QuorumConfig for the ensemble.
  "cnxTimeout",
  "electionPortBindRetry",
  "fastleader.minNotificationInterval",
  "fastleader.maxNotificationInterval"
])

/** Alternative spellings → canonical key. */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ["DigestAuthenticationProvider.superDigest", "superDigest"],
  ["zookeeper.DigestAuthenticationProvider.superDigest", "superDigest"],
  ["java.security.auth.login.config", "jaasLoginConfig"]
])

/** ZooKeeper keys that do not apply to ezk: accepted with an info note (exact names). */
const IGNORED_KEYS = new Set([
  "connectToLearnerMasterLimit",
  "syncEnabled",
  "observerMasterPort",
  "localSessionsEnabled",
  "localSessionsUpgradingEnabled",
  "multiAddress.enabled",
  "multiAddress.reachabilityCheckEnabled",
  "multiAddress.reachabilityCheckTimeoutMs",
  "quorum.cnxn.threads.size",
  "forceSync",
  "leaderServes",
  "kerberos.removeHostFromPrincipal",
  "kerberos.removeRealmFromPrincipal",
  "fsync.warningthresholdms",
  "jute.maxbuffer.extrasize",
  "serverCnxnFactory",
  "flushDelay",
  "maxWriteQueuePollTime",
  "maxBatchSize",
  "requestThrottleLimit",
  "requestThrottleStallTime",
  "requestThrottleDropStale",
  "throttledOpWaitTime",
  "largeRequestMaxBytes",
  "largeRequestThreshold",
  "connectionMaxTokens",
  "connectionTokenFillTime",
  "connectionTokenFillCount",
  "connectionFreezeTime",
  "connectionDropIncrease",
  "connectionDropDecrease",
  "connectionDecreaseRatio",
  "snapshot.trust.empty",
  "snapshot.compression.method",
  "snapSizeLimitInKb",
  "txnLogSizeLimitInKb",
  "closeSessionTxn.enabled",
  "enforceQuota",
  "watchManagerName",
  "watcherCleanThreshold",
  "watcherCleanIntervalInSeconds",
  "watcherCleanThreadsNum",
  "watcherCleanThreadQueueSize",
  "maxConcurrentSnapSyncs",
  "maxConcurrentDiffSyncs",
  "audit.enable",
  "audit.impl.class",
  "tcpKeepAlive",
  "clientTcpKeepAlive",
  "maxCnxns",
  "enableEagerACLCheck",
  "skipTxnDigest",
  "intBufferStartingSizeBytes",
  "messageTracker.BufferSize",
  "messageTracker.Enabled",
  "learner.asyncSending",
  "learner.closeSocketAsync",
  "leader.closeSocketAsync",
  "leader.ackLoggingFrequency",
  "leader.maxTimeToWaitForEpoch",
  "observer.reconnectDelayMs",
  "observer.election.DelayMs",
  "follower.skipLearnerRequestToNextProcessor",
  "request_stale_connection_check",
  "request_stale_latency_check",
  "datadir.autocreate",
  "db.autocreate",
  "admin.enableServer"
])

/** Prefixes of ignored families (admin server, metrics providers, NIO/Netty tuning, JVM pause monitor). */
const IGNORED_PREFIXES = ["admin.", "metricsProvider.", "nio.", "netty.", "jvm.pause.", "commitProcessor."]

/** TLS keys: ezk has no TLS, so these warn (silently dropping them would change the security posture). */
const TLS_KEYS = new Set(["secureClientPort", "secureClientPortAddress", "sslQuorum", "portUnification", "client.portUnification", "client.secure", "sslQuorumReloadCertFiles"])
const TLS_PREFIXES = ["ssl.", "ssl.quorum."]

/** Keys whose value ezk does not honour and that change behaviour a user relies on: warn. */
const UNSUPPORTED_KEYS: ReadonlyMap<string, string> = new Map([
  ["skipACL", "ezk always checks ACLs"],
  ["reconfigEnabled", "dynamic reconfiguration is not supported by ezk (reconfig requests are refused)"],
  ["oraclePath", "the two-server oracle is not supported by ezk"]
])

/** Families of unsupported keys, with why a user should know. */
const UNSUPPORTED_PREFIXES: ReadonlyArray<readonly [prefix: string, why: string]> = [
  ["quorum.auth.", "quorum SASL is not supported by ezk; peers do not authenticate each other"],
  ["group.", "hierarchical quorums are not supported by ezk; a majority of participants is the quorum"],
  ["weight.", "hierarchical quorums are not supported by ezk; a majority of participants is the quorum"]
]

/** Why an unsupported key is not honoured (for its warning). */
export const unsupportedReason = (k: string): string | undefined =>
  UNSUPPORTED_KEYS.get(k) ?? UNSUPPORTED_PREFIXES.find(([p]) => k.startsWith(p))?.[1]

/** How decode treats a key. */
export type KeyClass = "applied" | "ignored" | "tls" | "unsupported" | "unknown"

/** `authProvider.N` (an enumeration, so not in the tables). */
export const isAuthProviderKey = (k: string): boolean => k.startsWith("authProvider.")
/** `server.N`. */
export const isQuorumEnumKey = (k: string): boolean => /^server\.[^.]+$/.test(k)

/** Canonical spelling of a key: aliases resolved, `zookeeper.` stripped from system-property keys. */
export const canonicalKey = (key: string): string => {
  const alias = ALIASES.get(key)
  if (alias !== undefined) return alias
  if (key.startsWith("zookeeper.")) {
    const bare = key.slice("zookeeper.".length)
    const bareAlias = ALIASES.get(bare)
    if (bareAlias !== undefined) return bareAlias
    if (!CFG_KEYS.has(bare) && classifyCanonical(bare) !== "unknown") return bare
  }
  return key
}

/** The class of a canonical key (see the tables above). */
export const classifyCanonical = (k: string): KeyClass => {
  if (unsupportedReason(k) !== undefined) return "unsupported"
  if (CFG_KEYS.has(k) && !TLS_KEYS.has(k)) return "applied"
  if (APPLIED_KEYS.has(k) || isAuthProviderKey(k) || isQuorumEnumKey(k)) return "applied"
  if (TLS_KEYS.has(k) || TLS_PREFIXES.some((p) => k.startsWith(p))) return "tls"
  if (IGNORED_KEYS.has(k) || IGNORED_PREFIXES.some((p) => k.startsWith(p))) return "ignored"
  return "unknown"
}
