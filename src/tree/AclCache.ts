/**
 * Interning of ACL lists (storage.md §3.1): every node stores a small integer ref; identical lists
 * share one ref, refs are counted so unused lists can be dropped. Ref -1 is the implicit
 * `world:anyone ALL` of the built-in nodes and never appears in the table.
 */
import type { ACL } from "../wire/ClientRecords.js"

export const OPEN_ACL_REF = -1

/** `world:anyone ALL`, the ACL behind ref -1. */
export const OPEN_ACL_UNSAFE: ReadonlyArray<ACL> = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]

const keyOf = (acl: ReadonlyArray<ACL>): string => {
  let k = ""
  for (const a of acl) k += `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}\u0001`
  return k
}

export class AclCache {
  private readonly byRef = new Map<number, { acl: ReadonlyArray<ACL>; count: number }>()
  private readonly byKey = new Map<string, number>()
  private next = 1

  /** The list behind a ref; an unknown ref is a broken invariant. */
  get(ref: number): ReadonlyArray<ACL> {
    if (ref === OPEN_ACL_REF) return OPEN_ACL_UNSAFE
    const e = this.byRef.get(ref)
    if (e === undefined) throw new Error(`ACL ref ${ref} not in cache`)
    return e.acl
  }

  /** Interns a list and takes one reference on it. */
  add(acl: ReadonlyArray<ACL>): number {
    const key = keyOf(acl)
    const ref = this.byKey.get(key)
    if (ref !== undefined) {
      this.byRef.get(ref)!.count++
      return ref
    }
    const fresh = this.next++
    this.byKey.set(key, fresh)
    this.byRef.set(fresh, { acl, count: 1 })
    return fresh
  }

  /** Drops one reference; the list is forgotten when nothing uses it. */
  release(ref: number): void {
    if (ref === OPEN_ACL_REF) return
    const e = this.byRef.get(ref)
    if (e === undefined) return
    if (--e.count <= 0) {
      this.byRef.delete(ref)
      this.byKey.delete(keyOf(e.acl))
    }
  }

  /** Loads a snapshot entry under its stored ref (count starts at 0 until nodes use it). */
  load(ref: number, acl: ReadonlyArray<ACL>): void {
    this.byRef.set(ref, { acl, count: 0 })
    this.byKey.set(keyOf(acl), ref)
    if (ref >= this.next) this.next = ref + 1
  }

  /** Takes a reference on a ref loaded from a snapshot. */
  retain(ref: number): void {
    if (ref === OPEN_ACL_REF) return
    const e = this.byRef.get(ref)
    if (e === undefined) throw new Error(`ACL ref ${ref} used by a node but missing from the snapshot`)
    e.count++
  }

  /** Forgets lists no node uses (after loading a snapshot). */
  purgeUnused(): void {
    for (const [ref, e] of this.byRef) {
      if (e.count <= 0) {
        this.byRef.delete(ref)
        this.byKey.delete(keyOf(e.acl))
      }
    }
  }

  get size(): number {
    return this.byRef.size
  }

  /** Every (ref, list) pair, for snapshots. */
  entries(): IterableIterator<[number, { readonly acl: ReadonlyArray<ACL> }]> {
    return this.byRef.entries()
  }
}
