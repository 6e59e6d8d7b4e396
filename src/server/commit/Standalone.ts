/**
 * The standalone commit stage: prepared txns are appended to the local txn log's buffer and wait
 * for the group-commit loop (./GroupCommit.ts), which makes each batch durable with one write and
 * hands it back to `ServerCore.commit`.
 */
import { epochOf, type ZxidCounter } from "../../wire/Zxid.js"
import type { CommitStage, ForwardedRequest, PendingWrite } from "./CommitStage.js"

/** Where prepared txns are buffered until the next sync (the txn log writer). */
export interface TxnSink {
  append(zxid: number, entry: Uint8Array): void
}

export class StandaloneStage implements CommitStage {
  readonly role = "standalone" as const
  private batch: Array<PendingWrite> = []

  constructor(
    private readonly sink: TxnSink,
    /** Wakes the group-commit loop when a batch starts. */
    private readonly wake: () => void = () => {}
  ) {}

  /** Writes waiting for the next sync. */
  get size(): number {
    return this.batch.length
  }

  append(write: PendingWrite, entry: Uint8Array): void {
    this.sink.append(write.header.zxid, entry)
    this.batch.push(write)
    if (this.batch.length === 1) this.wake()
  }

  /** Takes the writes appended so far; the caller syncs the log right after, with no await between. */
  take(): Array<PendingWrite> {
    const b = this.batch
    this.batch = []
    return b
  }

  forward(request: ForwardedRequest): void {
    throw new Error(`a standalone server has no leader to forward session 0x${request.sessionId.toString(16)}'s request to`)
  }

  /** Alone, a server just moves on to the next epoch's counters. */
  epochExhausted(zxids: ZxidCounter): boolean {
    zxids.startEpoch(epochOf(zxids.current) + 1)
    return true
  }
}
