import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import {
  challengeText,
  type DigestInputs,
  parseDirectives,
  quote,
  responseValue,
  rspauthValue,
  type ServerOptions,
  type ServerStep,
  start as startServer
} from "../../src/auth/SaslDigestMd5.js"
import { type ClientOptions, type ClientStep, start as startClient } from "../../src/auth/SaslDigestMd5Client.js"
import { CASES, FIRST_TOKENS } from "./digestCases.js"

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8")
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "utf8"))
const users = new Map([["bob", "bobpw"], ["super", "jaaspw"]])

// RFC 2831 §4 worked example.
const rfc: DigestInputs = {
  username: "chris",
  realm: "elwood.innosoft.com",
  password: "secret",
  nonce: "OA6MG9tEQGm2hh",
  cnonce: "OA6MHXh6VqTrRk",
  nc: "00000001",
  qop: "auth",
  digestUri: "imap/elwood.innosoft.com",
  utf8: true
}
const rfcChallenge = `realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8`
const rfcResponse = `charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,` +
  `cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth`

const expectTag = <S extends { readonly _tag: string }, T extends S["_tag"]>(step: S, tag: T): Extract<S, { _tag: T }> => {
  assert.strictEqual(step._tag, tag, JSON.stringify(step))
  return step as Extract<S, { _tag: T }>
}

/** Run a full exchange between our client and our server; returns the last steps. */
const exchange = (server: Partial<ServerOptions> = {}, client: Partial<ClientOptions> = {}) => {
  const srv = startServer({ users, ...server })
  const cli = startClient({ username: "bob", password: "bobpw", ...client })
  const challenge = expectTag(srv.evaluateResponse(cli.initialResponse), "Challenge")
  const response = cli.evaluateChallenge(challenge.token)
  if (response._tag !== "Response") return { server: null, client: response, srv, cli }
  const final: ServerStep = srv.evaluateResponse(response.token)
  const done: ClientStep | null = final._tag === "Success" ? cli.evaluateChallenge(final.token) : null
  return { server: final, client: done, srv, cli }
}

/** Answer a challenge with a hand-written digest-response. */
const respondWith = (fields: (nonce: string) => string, server: Partial<ServerOptions> = {}) => {
  const srv = startServer({ users, makeNonce: () => "N0nce", ...server })
  expectTag(srv.evaluateResponse(new Uint8Array(0)), "Challenge")
  return srv.evaluateResponse(bytes(fields("N0nce")))
}
describe("RFC 2831 example", () => {
  it("response and rspauth values", () => {
    assert.strictEqual(responseValue(rfc), "d388dad90d4bbd760a152321f2143af7")
    assert.strictEqual(rspauthValue(rfc), "ea40f60335c427b5527b84dbabcdfffd")
  })

  it("our client produces the RFC response", () => {
    const cli = startClient({ username: "chris", password: "secret", protocol: "imap", serverName: "elwood.innosoft.com", makeCnonce: () => rfc.cnonce })
    const step = expectTag(cli.evaluateChallenge(bytes(rfcChallenge)), "Response")
    assert.include(text(step.token), "response=d388dad90d4bbd760a152321f2143af7")
    assert.include(text(step.token), `digest-uri="imap/elwood.innosoft.com"`)
    expectTag(cli.evaluateChallenge(bytes("rspauth=ea40f60335c427b5527b84dbabcdfffd")), "Complete")
  })

  it("our server accepts the RFC response and answers the RFC rspauth", () => {
    const srv = startServer({
      users: new Map([["chris", "secret"]]),
      realm: "elwood.innosoft.com",
      protocol: "imap",
      serverName: "elwood.innosoft.com",
      makeNonce: () => rfc.nonce
    })
    const challenge = expectTag(srv.evaluateResponse(new Uint8Array(0)), "Challenge")
    assert.strictEqual(text(challenge.token), `realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",charset=utf-8,algorithm=md5-sess`)
    const ok = expectTag(srv.evaluateResponse(bytes(rfcResponse)), "Success")
    assert.strictEqual(text(ok.token), "rspauth=ea40f60335c427b5527b84dbabcdfffd")
    assert.deepStrictEqual(ok.ids, [{ scheme: "sasl", id: "chris" }])
  })
})

describe("server ↔ client", () => {
  it("ZooKeeper defaults: challenge shape, sasl:bob, client verifies rspauth", () => {
    const r = exchange({ makeNonce: () => "NONCE" })
    assert.strictEqual(r.srv.state(), "Complete")
    const ok = expectTag(r.server!, "Success")
    assert.strictEqual(ok.user, "bob")
    assert.deepStrictEqual(ok.ids, [{ scheme: "sasl", id: "bob" }])
    assert.isFalse(ok.isSuper)
    assert.match(text(ok.token), /^rspauth=[0-9a-f]{32}$/)
    expectTag(r.client!, "Complete")
    assert.strictEqual(r.cli.state(), "Complete")
    assert.strictEqual(challengeText("zk-sasl-md5", "NONCE"), `realm="zk-sasl-md5",nonce="NONCE",qop="auth",charset=utf-8,algorithm=md5-sess`)
  })

  it("refuses a wrong password and an unknown user", () => {
    expectTag(exchange({}, { password: "nope" }).server!, "Failure")
    expectTag(exchange({}, { username: "eve" }).server!, "Failure")
  })

  it("the id is the username even with another authzid (SaslServerCallbackHandler)", () => {
    const ok = expectTag(exchange({}, { authzid: "alice" }).server!, "Success")
    assert.deepStrictEqual(ok.ids, [{ scheme: "sasl", id: "bob" }])
    expectTag(exchange({}, { authzid: "bob" }).server!, "Success")
  })

  it("superUser grants super; superPassword replaces the super user's password", () => {
    assert.isTrue(expectTag(exchange({ superUser: "bob" }).server!, "Success").isSuper)
    expectTag(exchange({ superPassword: "sp" }, { username: "super", password: "sp" }).server!, "Success")
    expectTag(exchange({ superPassword: "sp" }, { username: "super", password: "jaaspw" }).server!, "Failure")
    expectTag(exchange({}, { username: "super", password: "jaaspw" }).server!, "Success")
    // The super user must be listed in the JAAS section even with superPassword.
    expectTag(exchange({ users: new Map([["bob", "bobpw"]]), superPassword: "sp" }, { username: "super", password: "sp" }).server!, "Failure")
  })

  it("the client rejects a wrong rspauth", () => {
    const srv = startServer({ users })
    const cli = startClient({ username: "bob", password: "bobpw" })
    const ch = expectTag(srv.evaluateResponse(cli.initialResponse), "Challenge")
    const resp = expectTag(cli.evaluateChallenge(ch.token), "Response")
    expectTag(srv.evaluateResponse(resp.token), "Success")
    expectTag(cli.evaluateChallenge(bytes("rspauth=00000000000000000000000000000000")), "Failure")
    assert.strictEqual(cli.state(), "Failed")
  })

  it("the client rejects challenges it cannot answer", () => {
    const bad = [
      "",
      `realm="r",qop="auth",algorithm=md5-sess`, // no nonce
      `nonce="a",nonce="b",algorithm=md5-sess`,
      `nonce="a",algorithm=md5`,
      `nonce="a",qop="auth-conf",algorithm=md5-sess`,
      `nonce="a",charset=latin1,algorithm=md5-sess`,
      `nonce="a,algorithm=md5-sess`
    ]
    for (const c of bad) expectTag(startClient({ username: "u", password: "p" }).evaluateChallenge(bytes(c)), "Failure")
  })

  it("nothing is accepted after completion or failure", () => {
    const r = exchange()
    expectTag(r.srv.evaluateResponse(new Uint8Array(0)), "Failure")
    assert.strictEqual(r.srv.state(), "Failed")
    const f = exchange({}, { password: "x" })
    expectTag(f.srv.evaluateResponse(new Uint8Array(0)), "Failure")
  })

  it("round-trips any user and password (utf-8), and a different password fails", () => {
    const name = FastCheck.string({ minLength: 1, maxLength: 12, unit: "grapheme" })
    FastCheck.assert(
      FastCheck.property(name, FastCheck.string({ maxLength: 16, unit: "grapheme" }), (user, password) => {
        const srv = { users: new Map([[user, password]]) }
        const ok = exchange(srv, { username: user, password })
        if (ok.server?._tag !== "Success" || ok.client?._tag !== "Complete") return false
        if (ok.server.user !== user) return false
        return exchange(srv, { username: user, password: password + "x" }).server?._tag === "Failure"
      }),
      { numRuns: 200 }
    )
  })
})

describe("server acceptance rules (digestCases.ts; Interop.test.ts checks the same table against the JDK server)", () => {
  for (const { name, token, challenged } of FIRST_TOKENS) {
    it(`a ${name} first token ${challenged ? "gets a challenge" : "fails"}`, () => {
      const srv = startServer({ users })
      assert.strictEqual(srv.evaluateResponse(bytes(token))._tag, challenged ? "Challenge" : "Failure")
    })
  }

  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const step = respondWith(c.response)
    assert.strictEqual(step._tag, c.accepted ? "Success" : "Failure", JSON.stringify(step))
  })
})

describe("parseDirectives", () => {
  it("parses tokens, quoted strings with escapes, and skips empty elements", () => {
    assert.deepStrictEqual(parseDirectives(` a = 1 ,, B="x\\"y\\\\z" ,c="" , d=md5-sess `), [
      ["a", "1"],
      ["b", `x"y\\z`],
      ["c", ""],
      ["d", "md5-sess"]
    ])
    assert.deepStrictEqual(parseDirectives(""), [])
  })

  it("reports malformed input", () => {
    for (const s of [`a`, `a="x`, `a=b c`, `a="x"y`, `=1`]) assert.isString(parseDirectives(s), s)
  })

  it("quote round-trips", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.string(), (v) => {
        const parsed = parseDirectives(`k=${quote(v)}`)
        return typeof parsed !== "string" && parsed.length === 1 && parsed[0]![1] === v
      })
    )
  })
})
