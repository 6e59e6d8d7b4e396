/**
 * Which znodes the reaper deletes (ZooKeeper's ContainerManager): containers left empty after
 * having had children (or never used for longer than maxNeverUsedIntervalMs), and childless TTL
 * nodes not modified within their TTL. Pure: the caller passes the time and prepares the deletes.
 */
import type { DataTree } from "../../tree/DataTree.js"
import { kindOfOwner, ttlOfOwner } from "../../tree/ZNode.js"

export interface ReapOptions {
  readonly extendedTypes: boolean
  /** znode.container.maxNeverUsedIntervalMs (0 = never reap never-used containers). */
  readonly containerMaxNeverUsedMs: number
}

/** Paths to delete at `now`: containers first, then TTL nodes. */
export const reapCandidates = (tree: DataTree, now: number, options: ReapOptions): Array<string> => {
  const out: Array<string> = []
  for (const path of tree.containers) {
    const node = tree.get(path)
    if (node === undefined || node.children !== null) continue
    if (node.cversion > 0 || (options.containerMaxNeverUsedMs > 0 && now - node.mtime > options.containerMaxNeverUsedMs)) out.push(path)
  }
  for (const path of tree.ttls) {
    const node = tree.get(path)
    if (node === undefined || node.children !== null) continue
    if (kindOfOwner(node.owner, options.extendedTypes) === "ttl" && now - node.mtime > ttlOfOwner(node.owner)) out.push(path)
  }
  return out
}
