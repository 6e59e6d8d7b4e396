import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { clientCredentials, JaasError, loadServerUsers, parse, parseServerUsers, serverUsers } from "../../src/auth/Jaas.js"

const ok = <A>(e: Either.Either<A, JaasError>): A => {
  if (Either.isLeft(e)) assert.fail(e.left.message)
  return (e as Either.Right<JaasError, A>).right
}
const err = <A>(e: Either.Either<A, JaasError>): JaasError => {
  if (Either.isRight(e)) assert.fail(`expected an error, got ${JSON.stringify(e.right)}`)
  return (e as Either.Left<JaasError, A>).left
}

const zkDoc = `Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret";
};
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="bobsecret";
};
`

describe("Jaas.parse", () => {
  it("reads ZooKeeper's documented Server/Client sections", () => {
    const config = ok(parse(zkDoc, "jaas.conf"))
    assert.deepStrictEqual([...config.keys()], ["Server", "Client"])
    const server = config.get("Server")!
    assert.strictEqual(server.length, 1)
    assert.strictEqual(server[0]!.loginModule, "org.apache.zookeeper.server.auth.DigestLoginModule")
    assert.strictEqual(server[0]!.flag, "required")
    assert.strictEqual(server[0]!.line, 2)
    assert.deepStrictEqual(ok(serverUsers(config, "jaas.conf")), new Map([["super", "adminsecret"], ["bob", "bobsecret"]]))
    assert.deepStrictEqual(clientCredentials(config), { username: "bob", password: "bobsecret" })
    assert.isUndefined(clientCredentials(config, "Server"))
  })

  it("handles comments, quoting, escapes, flags and several modules", () => {
    const text = `
// line comment with "quotes" and { braces
/* block
   comment */ Other { com.example.Foo OPTIONAL debug=true; };
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule Required
     user_alice = "pa ss;\\"q\\"\\\\"   // trailing comment
     user_carol="dq" /* inline */ user_dave=unquoted-word.v2;
  com.example.Other sufficient user_bob="second" user_alice="override";
  "com.example.Quoted" "requisite";
};
`
    const config = ok(parse(text, "f"))
    const server = config.get("Server")!
    assert.deepStrictEqual(server.map((m) => [m.loginModule, m.flag, m.line]), [
      ["org.apache.zookeeper.server.auth.DigestLoginModule", "required", 6],
      ["com.example.Other", "sufficient", 9],
      ["com.example.Quoted", "requisite", 10]
    ])
    assert.deepStrictEqual(config.get("Other")![0]!.options, new Map([["debug", "true"]]))
    assert.deepStrictEqual(
      ok(serverUsers(config, "f")),
      new Map([["alice", "override"], ["carol", "dq"], ["dave", "unquoted-word.v2"], ["bob", "second"]])
    )
  })

  it("takes a section name, allows empty sections and files, strips a BOM", () => {
    assert.deepStrictEqual(ok(parseServerUsers(zkDoc.replace("Server", "QuorumServer"), "f", "QuorumServer")).get("bob"), "bobsecret")
    assert.deepStrictEqual(ok(parse("Server { };", "f")).get("Server"), [])
    assert.strictEqual(err(parseServerUsers("Server { };", "f")).reason, "MissingSection") // the JDK treats it as absent
    assert.strictEqual(ok(parse("", "f")).size, 0)
    assert.strictEqual(ok(parse("// nothing\n", "f")).size, 0)
    assert.strictEqual(ok(parse("Server { };\n/* unclosed comment runs to the end\nOther { M required; };", "f")).size, 1)
    assert.isTrue(ok(parse("\uFEFF" + zkDoc, "f")).has("Server"))
  })

  it("ends an unclosed quote at the end of the line, like StreamTokenizer", () => {
    assert.strictEqual(ok(parseServerUsers(`Server { M required user_a="open\n; };`, "f")).get("a"), "open")
  })

  it("octal and control escapes like StreamTokenizer", () => {
    const users = ok(parseServerUsers(`Server { M required user_a="\\101\\t\\0" user_b="\\477"; };`, "f"))
    assert.strictEqual(users.get("a"), "A\t\u0000")
    assert.strictEqual(users.get("b"), "'7") // \47 then '7': a 3-digit escape must start with 0-3
  })

  it("expands ${property} values", () => {
    const props = (name: string) => (name === "pw" ? "fromprop" : undefined)
    assert.strictEqual(ok(parseServerUsers(`Server { M required user_a="x\${pw}y\${/}"; };`, "f", "Server", { properties: props })).get("a"), "xfrompropy/")
    const e = err(parseServerUsers(`Server {\n M required\n user_a="\${nope}"; };`, "f"))
    assert.strictEqual(e.reason, "Expansion")
    assert.strictEqual(e.line, 3)
    assert.strictEqual(err(parseServerUsers(`Server { M required user_a="\${e}"; };`, "f", "Server", { properties: () => "" })).reason, "Expansion")
  })

  it("reports errors with file and line", () => {
    const cases: ReadonlyArray<readonly [string, JaasError["reason"], number]> = [
      ["Server {\n  M required\n  user_a=\"x\"\n};\n", "Syntax", 4], // missing ';' after the module
      ["Server {\n  M mandatory;\n};", "Syntax", 2],
      ["Server {\n  M required user_a=123;\n};", "Syntax", 2],
      ["Server {\n  M required user_a;\n};", "Syntax", 2],
      ["Server {\n  M required user_a=\"open\n};", "Syntax", 3], // the quote closes at the line end, then `}`
      ["Server {\n  M required;\n}", "Syntax", 3],
      ["Server\n  M required;\n};", "Syntax", 2],
      ["Server { };\n\nServer { };", "DuplicateSection", 3],
      ["Server { M required user_a=\"x\", user_b=\"y\"; };", "Syntax", 1],
      ["Server {\n M required user_a='x'; };", "Syntax", 2]
    ]
    for (const [text, reason, line] of cases) {
      const e = err(parse(text, "/etc/zk/jaas.conf"))
      assert.strictEqual(e.reason, reason, text)
      assert.strictEqual(e.line, line, text)
      assert.strictEqual(e.file, "/etc/zk/jaas.conf")
      assert.match(e.message, new RegExp(`^/etc/zk/jaas\\.conf:${line}: `))
    }
  })

  it("a missing section is an error", () => {
    const e = err(parseServerUsers("Client { M required; };", "jaas.conf"))
    assert.strictEqual(e.reason, "MissingSection")
    assert.strictEqual(e.message, "jaas.conf: no 'Server' section in the JAAS configuration")
  })
})

describe("Jaas.loadServerUsers", () => {
  const dir = mkdtempSync(join(tmpdir(), "ezk-jaas-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.effect("reads a file", () =>
    Effect.gen(function*() {
      const path = join(dir, "jaas.conf")
      writeFileSync(path, zkDoc)
      const users = yield* loadServerUsers(path)
      assert.deepStrictEqual(users, new Map([["super", "adminsecret"], ["bob", "bobsecret"]]))
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("fails with ReadFailed for a missing file", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(loadServerUsers(join(dir, "missing.conf")))
      assert.strictEqual(e._tag, "JaasError")
      assert.strictEqual(e.reason, "ReadFailed")
      assert.strictEqual(e.file, join(dir, "missing.conf"))
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
