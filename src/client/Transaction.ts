/**
 * A typed builder for `multi`: each op added extends the tuple type of the results, so the
 * result of op i has the shape of op i (a Create gives a path, a SetData a Stat).
 *
 * ```ts
 * const [created, , updated] = yield* Transaction.make()
 *   .create("/jobs/j-", "payload", { mode: CreateMode.PERSISTENT_SEQUENTIAL })
 *   .check("/jobs", 4)
 *   .setData("/jobs", "changed")
 *   .commit(zk)
 * created.path // "/jobs/j-0000000007"; updated.stat.version
 * ```
 */
import type { Effect } from "effect"
import * as MultiOp from "./MultiOp.js"
import type { Client } from "./ZooKeeper.js"
import type { MultiError, ZkError } from "./ZooKeeperError.js"

/** Result of a create op. */
export type CreateResult = Extract<MultiOp.WriteResult, { readonly _tag: "Create" }>
/** Result of a delete op. */
export type DeleteResult = Extract<MultiOp.WriteResult, { readonly _tag: "Delete" }>
/** Result of a setData op. */
export type SetDataResult = Extract<MultiOp.WriteResult, { readonly _tag: "SetData" }>
/** Result of a check op. */
export type CheckResult = Extract<MultiOp.WriteResult, { readonly _tag: "Check" }>

/** An immutable list of ops whose results have the types `R`, in order. */
export class Transaction<R extends ReadonlyArray<MultiOp.WriteResult>> {
  constructor(readonly ops: ReadonlyArray<MultiOp.WriteOp>) {}

  private add<X extends MultiOp.WriteResult>(op: MultiOp.WriteOp): Transaction<readonly [...R, X]> {
    return new Transaction<readonly [...R, X]>([...this.ops, op])
  }

  /** Adds a create (see `ZooKeeper.create`). */
  create(path: string, data?: MultiOp.Data, options?: MultiOp.CreateOptions): Transaction<readonly [...R, CreateResult]> {
    return this.add(MultiOp.create(path, data, options))
  }

  /** Adds a delete; version -1 (default) matches any. */
  delete(path: string, version = -1): Transaction<readonly [...R, DeleteResult]> {
    return this.add(MultiOp.delete(path, version))
  }

  /** Adds a setData; version -1 (default) matches any. */
  setData(path: string, data: MultiOp.Data, version = -1): Transaction<readonly [...R, SetDataResult]> {
    return this.add(MultiOp.setData(path, data, version))
  }

  /** Adds a version check (-1 = the node must exist). */
  check(path: string, version: number): Transaction<readonly [...R, CheckResult]> {
    return this.add(MultiOp.check(path, version))
  }

  /** Applies every op atomically; fails with MultiError (naming the failing op) if any fails. */
  commit(zk: Client): Effect.Effect<R, ZkError | MultiError> {
    return zk.multi(this.ops) as Effect.Effect<R, ZkError | MultiError>
  }
}

/** An empty transaction. */
export const make = (): Transaction<readonly []> => new Transaction<readonly []>([])
