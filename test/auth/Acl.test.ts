import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import {
  checkACL,
  CREATOR_ALL_ACL,
  fixupACL,
  ipIdFromRemoteAddress,
  ipMatches,
  isValidDigestId,
  isValidIpExpr,
  OPEN_ACL_UNSAFE,
  READ_ACL_UNSAFE,
  redactACL
} from "../../src/auth/Acl.js"
import { Perms } from "../../src/wire/Codes.js"
import type { ACL, Id } from "../../src/wire/ClientRecords.js"
import { expressions, INVALID, MATCHES, VALID } from "./ipCases.js"

const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } })
const alice: Id = { scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=" }
const bob: Id = { scheme: "digest", id: "bob:ikIaKsbtGweaHnb/jKn7OHqbunM=" }
const localIp: Id = { scheme: "ip", id: "127.0.0.1" }
const saslBob: Id = { scheme: "sasl", id: "bob" }

describe("checkACL", () => {
  it("passes an empty ACL and super users", () => {
    assert.isTrue(checkACL([], Perms.ADMIN, [], false))
    assert.isTrue(checkACL([acl(Perms.READ, "digest", bob.id)], Perms.ADMIN, [], true))
  })

  it("world:anyone matches everyone, for the bits it has", () => {
    assert.isTrue(checkACL(OPEN_ACL_UNSAFE, Perms.WRITE, [], false))
    assert.isTrue(checkACL(READ_ACL_UNSAFE, Perms.READ, [], false))
    assert.isFalse(checkACL(READ_ACL_UNSAFE, Perms.WRITE, [localIp], false))
    assert.isFalse(checkACL([acl(31, "world", "someone")], Perms.READ, [{ scheme: "world", id: "someone" }], false))
  })

  it("any of several requested bits is enough (getACL asks READ|ADMIN)", () => {
    const nodeAcl = [acl(Perms.ADMIN, "digest", bob.id)]
    assert.isTrue(checkACL(nodeAcl, Perms.READ | Perms.ADMIN, [bob], false))
    assert.isFalse(checkACL(nodeAcl, Perms.READ, [bob], false))
  })

  it("digest matches exactly, within the same scheme only", () => {
    // /vec/bob observed: digest bob ALL + world READ; alice may read but not write.
    const nodeAcl = [acl(31, "digest", bob.id), acl(1, "world", "anyone")]
    assert.isTrue(checkACL(nodeAcl, Perms.WRITE, [bob], false))
    assert.isFalse(checkACL(nodeAcl, Perms.WRITE, [alice, localIp], false))
    assert.isTrue(checkACL(nodeAcl, Perms.READ, [alice], false))
    assert.isFalse(checkACL([acl(31, "digest", "bob:x")], Perms.READ, [bob], false))
    assert.isFalse(checkACL([acl(31, "digest", bob.id)], Perms.READ, [{ scheme: "sasl", id: bob.id }], false))
  })

  it("ip matches addresses and prefixes", () => {
    assert.isTrue(checkACL([acl(31, "ip", "127.0.0.1")], Perms.READ, [localIp], false))
    assert.isTrue(checkACL([acl(31, "ip", "127.0.0.0/8")], Perms.READ, [{ scheme: "ip", id: "127.9.9.9" }], false))
    assert.isFalse(checkACL([acl(31, "ip", "10.0.0.0/8")], Perms.READ, [localIp], false))
    assert.isFalse(checkACL([acl(31, "ip", "127.0.0.1")], Perms.READ, [{ scheme: "ip", id: "::1" }], false))
  })

  it("sasl matches exactly, and a SASL user named super matches every sasl entry (3.8 quirk)", () => {
    assert.isTrue(checkACL([acl(31, "sasl", "bob")], Perms.READ, [saslBob], false))
    assert.isFalse(checkACL([acl(31, "sasl", "bobby")], Perms.READ, [saslBob], false))
    assert.isTrue(checkACL([acl(31, "sasl", "bob")], Perms.READ, [{ scheme: "sasl", id: "super" }], false))
    assert.isFalse(checkACL([acl(31, "digest", bob.id)], Perms.READ, [{ scheme: "sasl", id: "super" }], false))
  })

  it("unknown schemes never match", () => {
    for (const scheme of ["x509", "super", "auth", "key", ""]) {
      assert.isFalse(checkACL([acl(31, scheme, "z")], Perms.READ, [{ scheme, id: "z" }], false), scheme)
    }
  })

  it("agrees with a naive model", () => {
    const scheme = FastCheck.constantFrom("world", "digest", "ip", "sasl", "x509")
    const ident = FastCheck.constantFrom("anyone", "a:1", "a:2", "127.0.0.1", "127.0.0.0/8", "10.1.2.3", "bob", "super")
    const id = FastCheck.record({ scheme, id: ident })
    const entry = FastCheck.record({ perms: FastCheck.integer({ min: 0, max: 31 }), id })
    const model = (a: ReadonlyArray<ACL>, perm: number, ids: ReadonlyArray<Id>, isSuper: boolean): boolean =>
      a.length === 0 || isSuper ||
      a.some((e) =>
        (e.perms & perm) !== 0 &&
        ((e.id.scheme === "world" && e.id.id === "anyone") ||
          ids.some((i) =>
            i.scheme === e.id.scheme &&
            ((i.scheme === "digest" && i.id === e.id.id) ||
              (i.scheme === "sasl" && (i.id === e.id.id || i.id === "super")) ||
              (i.scheme === "ip" && ipMatches(i.id, e.id.id)))
          ))
      )
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(entry, { maxLength: 4 }),
        FastCheck.integer({ min: 1, max: 31 }),
        FastCheck.array(id, { maxLength: 3 }),
        FastCheck.boolean(),
        (a, perm, ids, isSuper) => checkACL(a, perm, ids, isSuper) === model(a, perm, ids, isSuper)
      )
    )
  })
})

describe("ip rules (ipCases.ts; Interop.test.ts checks the same table against the 3.8 jar)", () => {
  it("validates like Java", () => {
    for (const v of VALID) assert.isTrue(isValidIpExpr(v), v)
    for (const v of INVALID) assert.isFalse(isValidIpExpr(v), v)
  })

  it("matches like Java", () => {
    for (const [remote, expr, want] of MATCHES) assert.strictEqual(ipMatches(remote, expr), want, `${remote} ~ ${expr}`)
  })

  it("validates like a model of Java's split + Integer.parseInt", () => {
    const javaInt = (s: string, max: number) => /^[+-]?\d+$/.test(s) && Number(s) >= 0 && Number(s) <= max
    const model = (expr: string) => {
      const slash = expr.indexOf("/")
      const addr = slash < 0 ? expr : expr.slice(0, slash)
      const parts = addr.split(".")
      return parts.length === 4 && parts.every((p) => javaInt(p, 255)) && (slash < 0 || javaInt(expr.slice(slash + 1), 32))
    }
    FastCheck.assert(FastCheck.property(expressions, (e) => isValidIpExpr(e) === model(e)), { numRuns: 2000 })
  })

  it("maps IPv4-mapped IPv6 peers to their IPv4 form", () => {
    assert.strictEqual(ipIdFromRemoteAddress("::ffff:127.0.0.1"), "127.0.0.1")
    assert.strictEqual(ipIdFromRemoteAddress("::FFFF:10.0.0.1"), "10.0.0.1")
    assert.strictEqual(ipIdFromRemoteAddress("127.0.0.1"), "127.0.0.1")
    assert.strictEqual(ipIdFromRemoteAddress("::1"), "::1")
  })
})

describe("fixupACL", () => {
  it("rejects an empty ACL (observed InvalidACL)", () => {
    assert.isNull(fixupACL([], [alice]))
  })

  it("expands auth to the digest ids, not ip (observed /vec/secret → digest:alice)", () => {
    assert.deepStrictEqual(fixupACL([acl(31, "auth", "")], [alice, localIp]), [{ perms: 31, id: alice }])
    assert.deepStrictEqual(fixupACL(CREATOR_ALL_ACL, [localIp, alice, saslBob]), [
      { perms: 31, id: alice },
      { perms: 31, id: saslBob }
    ])
  })

  it("auth ignores its own id and uses the entry's perms", () => {
    assert.deepStrictEqual(fixupACL([acl(3, "auth", "whatever")], [bob]), [{ perms: 3, id: bob }])
  })

  it("auth without an authenticated id is InvalidACL", () => {
    assert.isNull(fixupACL([acl(31, "auth", "")], []))
    assert.isNull(fixupACL([acl(31, "auth", "")], [localIp]))
    assert.isNull(fixupACL([acl(31, "auth", "")], [saslBob], { saslEnabled: false }))
  })

  it("removes duplicates before expanding, keeping the first", () => {
    const input = [acl(31, "world", "anyone"), acl(1, "world", "anyone"), acl(31, "world", "anyone")]
    assert.deepStrictEqual(fixupACL(input, []), [acl(31, "world", "anyone"), acl(1, "world", "anyone")])
    // Like ZooKeeper, an expansion that repeats an explicit entry is kept as is.
    assert.deepStrictEqual(fixupACL([acl(31, "digest", alice.id), acl(31, "auth", "")], [alice]), [
      { perms: 31, id: alice },
      { perms: 31, id: alice }
    ])
  })

  it("keeps valid explicit entries (observed: digest bob ALL + world READ, ip:127.0.0.1)", () => {
    const input = [acl(31, "digest", bob.id), acl(1, "world", "anyone"), acl(31, "ip", "127.0.0.1"), acl(31, "ip", "10.0.0.0/8")]
    assert.deepStrictEqual(fixupACL(input, []), input)
  })

  it("validates ids per scheme", () => {
    const invalid: ReadonlyArray<ACL> = [
      acl(31, "world", "someone"),
      acl(31, "digest", "alice"),
      acl(31, "digest", "a:b:c"),
      acl(31, "ip", "1.2.3.4/33"),
      acl(31, "ip", "::1"),
      acl(31, "super", ""),
      acl(31, "x509", "CN=a"),
      acl(31, "nosuch", "x"),
      acl(31, "", "")
    ]
    for (const a of invalid) assert.isNull(fixupACL([acl(31, "world", "anyone"), a], [alice]), `${a.id.scheme}:${a.id.id}`)
    assert.isNotNull(fixupACL([acl(31, "sasl", "bob")], []))
    assert.isNotNull(fixupACL([acl(31, "sasl", "")], [])) // SASLAuthenticationProvider.isValid("") is true
    assert.isNull(fixupACL([acl(31, "sasl", "bob")], [], { saslEnabled: false }))
  })

  it("digest ids split like Java's String.split(\":\")", () => {
    for (const v of ["alice:h", ":h", "a:b:", "a:b::"]) assert.isTrue(isValidDigestId(v), v)
    for (const v of ["alice", "a:b:c", "alice:", ":", "", "a::b", "::"]) assert.isFalse(isValidDigestId(v), v)
  })
})

describe("redactACL", () => {
  it("hides digest hashes (observed digest:bob:x) and leaves other schemes", () => {
    const input = [acl(31, "digest", bob.id), acl(1, "world", "anyone"), acl(31, "ip", "127.0.0.1")]
    assert.deepStrictEqual(redactACL(input), [acl(31, "digest", "bob:x"), acl(1, "world", "anyone"), acl(31, "ip", "127.0.0.1")])
    assert.deepStrictEqual(input[0], acl(31, "digest", bob.id), "input untouched")
  })

  it("returns the same array when there is nothing to hide", () => {
    const input = [acl(31, "world", "anyone"), acl(31, "digest", "nocolon")]
    assert.strictEqual(redactACL(input), input)
  })

  it("follows Java's replaceAll(\":.*\", \":x\") line by line", () => {
    assert.deepStrictEqual(redactACL([acl(1, "digest", "a:b:c")]), [acl(1, "digest", "a:x")])
    assert.deepStrictEqual(redactACL([acl(1, "digest", "a:b\nc:d")]), [acl(1, "digest", "a:x\nc:x")])
  })
})
