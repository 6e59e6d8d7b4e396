/**
 * Contiguity of zxid histories (ZOOKEEPER-4925): within an epoch counters are consecutive, and a new
 * epoch's first txn has counter 1. Epochs may be skipped (a leader that committed nothing).
 */
import * as Zxid from "../../wire/Zxid.js"

/** Whether `next` may directly follow `prev` in a committed history without a hole. */
export const follows = (prev: Zxid.Zxid, next: Zxid.Zxid): boolean =>
  Zxid.epochOf(next) === Zxid.epochOf(prev)
    ? next === prev + 1
    : Zxid.epochOf(next) > Zxid.epochOf(prev) && Zxid.counterOf(next) === 1

/** Whether `zxids`, starting right after `start`, leave no hole. */
export const contiguousFrom = (start: Zxid.Zxid, zxids: Iterable<Zxid.Zxid>): boolean => {
  let prev = start
  for (const z of zxids) {
    if (!follows(prev, z)) return false
    prev = z
  }
  return true
}
