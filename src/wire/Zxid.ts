/**
 * Zxids: `epoch << 32 | counter` (quorum.md §3.3), the one place that knows the layout.
 *
 * A zxid is a JS number: epochs up to 2^21-1 keep it exact (Jute's long reader refuses larger), far
 * beyond any real ensemble's leader changes. Epoch and counter are unsigned 32-bit halves.
 */

/** A zxid (`epoch·2^32 + counter`). */
export type Zxid = number

const TWO_32 = 4294967296

/** Largest epoch whose zxids are exact JS numbers. */
export const MAX_EPOCH = 0x1fffff

/**
 * The last counter a leader may hand out. ZooKeeper abdicates when a proposal's counter would reach
 * 0xffffffff (forcing an election and so a new epoch), so 0xfffffffe is the last one used.
 */
export const MAX_COUNTER = 0xfffffffe

export const make = (epoch: number, counter: number): Zxid => epoch * TWO_32 + counter

export const epochOf = (zxid: Zxid): number => Math.floor(zxid / TWO_32)

export const counterOf = (zxid: Zxid): number => zxid % TWO_32

/** The first zxid of an epoch (counter 0): what NEWLEADER/LEADERINFO carry; no txn has it. */
export const epochStart = (epoch: number): Zxid => epoch * TWO_32

/** Whether the next txn after `zxid` needs a new epoch (its counter would overflow). */
export const exhausted = (zxid: Zxid): boolean => counterOf(zxid) >= MAX_COUNTER

/** `0x…` as ZooKeeper logs zxids. */
export const toHex = (zxid: Zxid): string => `0x${zxid.toString(16)}`

/**
 * Hands out zxids in one epoch. The standalone server and a leader own one each; a learner never
 * assigns zxids (the leader's proposals carry them).
 */
export class ZxidCounter {
  constructor(private last: Zxid) {}

  /** The last zxid handed out (or the starting point). */
  get current(): Zxid {
    return this.last
  }

  /** Whether another zxid can be handed out in this epoch. */
  get canAdvance(): boolean {
    return !exhausted(this.last)
  }

  /** The next zxid; throws (a defect) past the epoch's last counter: callers check `canAdvance`. */
  next(): Zxid {
    if (exhausted(this.last)) throw new Error(`zxid counter of epoch ${epochOf(this.last)} exhausted at ${toHex(this.last)}`)
    return ++this.last
  }

  /** Restarts at the beginning of `epoch` (a new leader's first txn is counter 1). */
  startEpoch(epoch: number): void {
    if (epoch > MAX_EPOCH) throw new Error(`epoch ${epoch} beyond the largest supported (${MAX_EPOCH})`)
    this.last = epochStart(epoch)
  }
}
