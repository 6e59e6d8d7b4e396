/** The pure quorum core: election, discovery, sync and broadcast rules as data in, data out. */
export * as Discovery from "./Discovery.js"
export * as Election from "./Election.js"
export * as LearnerSync from "./LearnerSync.js"
export * from "./ProposalTracker.js"
export * as QuorumVerifier from "./QuorumVerifier.js"
export * as SyncDecision from "./SyncDecision.js"
export * as Vote from "./Vote.js"
export * as ZxidOrder from "./ZxidOrder.js"
