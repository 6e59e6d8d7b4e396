import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  AuthProviders,
  digestId,
  digestIdOf,
  layer,
  make,
  parseSuperDigest,
  superDigestFor
} from "../../src/auth/Digest.js"

const bytes = (s: string) => new TextEncoder().encode(s)
const superDigest = "super:g9oN2HttPfn8MMWJZ2r45Np/LIA="

describe("digestId (DigestAuthenticationProvider.generateDigest, values from the 3.8.0 jar)", () => {
  it("hashes the whole user:password string", () => {
    assert.strictEqual(digestId("alice:secret"), "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=")
    assert.strictEqual(digestId("super:superpw"), superDigest)
    assert.strictEqual(digestId("bob:bobpw"), "bob:0ezhUayTjEymfNB3K9C0+wkMLMo=")
    assert.strictEqual(digestIdOf("alice", "secret"), "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=")
    assert.strictEqual(superDigestFor("superpw"), superDigest)
  })

  it("handles odd inputs like Java", () => {
    assert.strictEqual(digestId("nocolon"), "nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g=")
    assert.strictEqual(digestId("a:b:c"), "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0=")
    assert.strictEqual(digestId(""), ":2jmj7l5rSw0yVb/vlWAYkK/YBwk=")
    assert.strictEqual(digestId("ü:pw"), "ü:as0MmnU4UJ8NaHD8SMox3y3hU/o=")
  })
})

describe("parseSuperDigest", () => {
  it("accepts user:base64-sha1", () => {
    assert.deepStrictEqual(parseSuperDigest(superDigest), {
      user: "super",
      hash: "g9oN2HttPfn8MMWJZ2r45Np/LIA=",
      id: superDigest
    })
  })

  it("rejects malformed settings", () => {
    for (const v of ["super", "super:", ":g9oN2HttPfn8MMWJZ2r45Np/LIA=", "super:superpw", "super:a:b", "super:g9oN2HttPfn8MMWJZ2r45Np/LIA"]) {
      assert.isNull(parseSuperDigest(v), v)
    }
  })
})

describe("AuthProviders", () => {
  const providers = make({ superDigest })

  it("digest always succeeds and adds the digest id", () => {
    assert.deepStrictEqual(providers.authenticate("digest", bytes("alice:secret"), "127.0.0.1"), {
      ok: true,
      ids: [{ scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=" }],
      isSuper: false
    })
    const odd = providers.authenticate("digest", new Uint8Array(0), "127.0.0.1")
    assert.isTrue(odd.ok)
  })

  it("digest as super:superpw grants super (observed conn 7)", () => {
    assert.deepStrictEqual(providers.authenticate("digest", bytes("super:superpw"), "127.0.0.1"), {
      ok: true,
      ids: [{ scheme: "digest", id: superDigest }],
      isSuper: true
    })
    assert.isFalse((make().authenticate("digest", bytes("super:superpw"), "x") as { isSuper: boolean }).isSuper)
    const wrong = providers.authenticate("digest", bytes("super:nope"), "127.0.0.1")
    assert.isTrue(wrong.ok && !wrong.isSuper)
  })

  it("ip succeeds with the remote address (observed conn 1 of client_edge)", () => {
    assert.deepStrictEqual(providers.authenticate("ip", new Uint8Array(0), "::ffff:127.0.0.1"), {
      ok: true,
      ids: [{ scheme: "ip", id: "127.0.0.1" }],
      isSuper: false
    })
  })

  it("every other scheme is AuthFailed (no provider registered in 3.8 by default)", () => {
    for (const scheme of ["world", "auth", "super", "sasl", "x509", "nosuch", "", "DIGEST"]) {
      assert.deepStrictEqual(providers.authenticate(scheme, bytes("x"), "127.0.0.1"), { ok: false }, scheme)
    }
  })

  it.effect("is provided by layer", () =>
    Effect.gen(function*() {
      const p = yield* AuthProviders
      assert.deepStrictEqual(p.schemes, ["digest", "ip"])
      assert.isTrue((p.authenticate("digest", bytes("super:superpw"), "x") as { isSuper: boolean }).isSuper)
    }).pipe(Effect.provide(layer({ superDigest }))))
})
