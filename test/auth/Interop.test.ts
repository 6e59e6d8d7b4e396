/**
 * Compatibility with the implementations real clients use: the JDK's DIGEST-MD5 (zkCli.sh / the
 * Java client with a JAAS `Client` section, and the ZooKeeper server itself) and Python's puresasl
 * (kazoo). The peers are child processes (see peers.ts); tests skip with a reason when a runtime
 * is missing.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type JaasConfig, parse } from "../../src/auth/Jaas.js"
import { type ServerOptions, start as startServer } from "../../src/auth/SaslDigestMd5.js"
import { start as startClient } from "../../src/auth/SaslDigestMd5Client.js"
import {
  compileJava,
  findPuresasl,
  hex,
  hexText,
  type JavaPeers,
  type Peer,
  startJava,
  startPuresasl,
  unhex
} from "./peers.js"
import { missingTool } from "../support/requireTool.js"
import { CASES, FIRST_TOKENS, PASSWORD, USER } from "./digestCases.js"
import { INVALID, MATCHES, sampledExpressions, VALID } from "./ipCases.js"
import { isValidIpExpr } from "../../src/auth/Acl.js"

const users = new Map([
  ["bob", "bobpw"],
  ["jürgen", "pässwörd"], // ISO 8859-1 range: hashed as 8859-1 under charset=utf-8
  ["用户", "密码"] // beyond 8859-1: hashed as UTF-8
])

const java = compileJava()
const javaSkip = typeof java === "string" ? java : undefined
const python = findPuresasl()
const pythonSkip = typeof python === "string" ? undefined : python.skip
const noJava = missingTool("a JDK (javac)", javaSkip === undefined, "apt-get install openjdk-17-jdk-headless")
const noZkJars = noJava || missingTool("ZooKeeper's client jars", (java as JavaPeers).hasZooKeeperJar, "apt-get install zookeeper")
const noPuresasl = missingTool("puresasl", pythonSkip === undefined, "apt-get install python3-pure-sasl")

const peers: Array<Peer> = []
const tempDirs: Array<string> = typeof java === "string" ? [] : [java.classDir]
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "ezk-jaas-"))
  tempDirs.push(dir)
  return dir
}
afterAll(() => {
  for (const p of peers) p.close()
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
})
const track = (p: Peer): Peer => {
  peers.push(p)
  return p
}

/**
 * Drive a client peer that prints `TOKEN <hex>` / `COMPLETE` / `ERROR` lines against our server;
 * returns what our server and the peer concluded.
 */
const clientPeerVsOurServer = async (peer: Peer, options: Partial<ServerOptions> = {}) => {
  const server = startServer({ users, ...options })
  const log: Array<string> = []
  for (let round = 0; round < 4; round++) {
    const line = await peer.next()
    log.push(line)
    if (!line.startsWith("TOKEN")) return { server: server.state(), peer: line, log }
    const step = server.evaluateResponse(unhex(line.slice(6)))
    if (step._tag === "Failure") {
      log.push(`server: ${step.reason}`)
      peer.close() // the real server replies AuthFailed and closes the connection
      return { server: server.state(), step, peer: "closed", log }
    }
    if (step._tag === "Success") log.push(`server: ok ${JSON.stringify(step.ids)}`)
    peer.send(hex(step.token))
  }
  return { server: server.state(), peer: "too many rounds", log }
}

describe.skipIf(noJava)("JDK DIGEST-MD5 client (as ZooKeeper's Java client / zkCli.sh) → our server", () => {
  const jp = java as JavaPeers

  for (const [user, password] of users) {
    it(`authenticates ${user}`, async () => {
      const r = await clientPeerVsOurServer(track(startJava(jp, ["client", hexText(user), hexText(password)])))
      assert.strictEqual(r.server, "Complete", r.log.join("\n"))
      assert.match(r.peer, /^COMPLETE /, r.log.join("\n"))
      assert.include(r.log.join("\n"), JSON.stringify([{ scheme: "sasl", id: user }]))
    })
  }

  it("sends what we expect: empty first token, charset/realm/digest-uri/authzid", async () => {
    const peer = track(startJava(jp, ["client", hexText("bob"), hexText("bobpw")]))
    assert.strictEqual(await peer.next(), "TOKEN ")
    const server = startServer({ users })
    const challenge = server.evaluateResponse(new Uint8Array(0))
    assert.strictEqual(challenge._tag, "Challenge")
    peer.send(hex((challenge as { token: Uint8Array }).token))
    const response = Buffer.from(unhex((await peer.next()).slice(6))).toString("utf8")
    assert.match(response, /^charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="[^"]+",nc=00000001,cnonce="[^"]+",digest-uri="zookeeper\/zk-sasl-md5",maxbuf=65536,response=[0-9a-f]{32},qop=auth,authzid="bob"$/)
  })

  it("is refused with a wrong password", async () => {
    const r = await clientPeerVsOurServer(track(startJava(jp, ["client", hexText("bob"), hexText("wrong")])))
    assert.strictEqual(r.server, "Failed", r.log.join("\n"))
  })

  it("is refused for an unknown user", async () => {
    const r = await clientPeerVsOurServer(track(startJava(jp, ["client", hexText("eve"), hexText("bobpw")])))
    assert.strictEqual(r.server, "Failed", r.log.join("\n"))
  })
})

describe.skipIf(noZkJars)(
  "our client → JDK DIGEST-MD5 server with ZooKeeper's SaslServerCallbackHandler and JAAS file",
  () => {
    const jp = java as JavaPeers
    let jaasFile = ""
    beforeAll(() => {
      jaasFile = join(tempDir(), "jaas.conf")
      const entries = [...users].map(([u, p]) => `  user_${u}="${p}"`).join("\n")
      writeFileSync(jaasFile, `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n${entries};\n};\n`)
    })

    const run = async (username: string, password: string, authzid?: string) => {
      const peer = track(startJava(jp, ["server"], { "java.security.auth.login.config": jaasFile }))
      const client = startClient({ username, password, authzid })
      peer.send(hex(client.initialResponse))
      const challenge = await peer.next()
      assert.match(challenge, /^TOKEN /)
      const response = client.evaluateChallenge(unhex(challenge.slice(6)))
      assert.strictEqual(response._tag, "Response")
      peer.send(hex((response as { token: Uint8Array }).token))
      const answer = await peer.next()
      const done = answer.startsWith("COMPLETE ") ? client.evaluateChallenge(unhex(answer.split(" ")[2]!)) : null
      return { answer, done }
    }

    for (const [user, password] of users) {
      it(`authenticates ${user}`, async () => {
        const { answer, done } = await run(user, password)
        assert.strictEqual(answer.split(" ").slice(0, 2).join(" "), `COMPLETE ${user}`)
        assert.strictEqual(done?._tag, "Complete")
      })
    }

    it("authenticates with authzid like the Java client", async () => {
      const { done } = await run("bob", "bobpw", "bob")
      assert.strictEqual(done?._tag, "Complete")
    })

    it("is refused with a wrong password", async () => {
      const { answer } = await run("bob", "nope")
      assert.match(answer, /^ERROR .*response/i)
    })
  }
)

describe.skipIf(noZkJars)("the JDK DIGEST-MD5 server with ZooKeeper's callback handler gives every verdict in digestCases.ts", () => {
  let peer: Peer
  beforeAll(() => {
    const jaasFile = join(tempDir(), "jaas.conf")
    writeFileSync(jaasFile, `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_${USER}="${PASSWORD}";\n};\n`)
    peer = track(startJava(java as JavaPeers, ["server-cases"], { "java.security.auth.login.config": jaasFile }))
  })
  /** A fresh JDK server's answer to `first`, then (if it challenged) to the response built from its nonce. */
  const judge = async (first: string, response?: (nonce: string) => string) => {
    peer.send("RESET")
    assert.strictEqual(await peer.next(), "RESET")
    peer.send(hexText(first))
    const challenge = await peer.next()
    if (!challenge.startsWith("TOKEN ") || response === undefined) return challenge
    const nonce = /nonce="([^"]*)"/.exec(Buffer.from(challenge.slice(6), "hex").toString("utf8"))?.[1]
    assert.isDefined(nonce, challenge)
    peer.send(hexText(response(nonce!)))
    return peer.next()
  }

  for (const { name, token, challenged } of FIRST_TOKENS) {
    it(`a ${name} first token ${challenged ? "gets a challenge" : "fails"}`, async () => {
      assert.match(await judge(token), challenged ? /^TOKEN / : /^ERROR /)
    })
  }

  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const answer = await judge("", c.response)
    assert.match(answer, c.accepted ? new RegExp(`^COMPLETE ${USER} `) : /^ERROR /)
  })
})

describe.skipIf(noZkJars)("ipCases.ts agrees with ZooKeeper's IPAuthenticationProvider (the installed jar)", () => {
  /** The jar's answers, one line per question, from one JVM. */
  const ask = async (questions: ReadonlyArray<string>): Promise<Array<boolean>> => {
    const peer = track(startJava(java as JavaPeers, ["ip"]))
    for (const q of questions) peer.send(q)
    const out: Array<boolean> = []
    for (const _ of questions) out.push((await peer.next()) === "true")
    return out
  }
  const valid = (expr: string) => `VALID ${hexText(expr)}`

  it("isValid: the VALID and INVALID tables", async () => {
    const exprs = [...VALID, ...INVALID]
    const got = await ask(exprs.map(valid))
    assert.deepStrictEqual(exprs.filter((_, i) => got[i]), [...VALID])
  })

  it("matches: the MATCHES table", async () => {
    const got = await ask(MATCHES.map(([id, expr]) => `MATCH ${hexText(id)} ${hexText(expr)}`))
    assert.deepStrictEqual(got, MATCHES.map(([, , want]) => want))
  })

  it("isValid agrees with ours on 2000 sampled expressions", async () => {
    const exprs = sampledExpressions(2000)
    const got = await ask(exprs.map(valid))
    assert.deepStrictEqual(exprs.filter((e, i) => got[i] !== isValidIpExpr(e)), [])
  })
})

describe.skipIf(noPuresasl)("puresasl (kazoo's DIGEST-MD5 client) → our server", () => {
  const py = python as string

  it("authenticates bob", async () => {
    const r = await clientPeerVsOurServer(track(startPuresasl(py, "bob", "bobpw")))
    assert.strictEqual(r.server, "Complete", r.log.join("\n"))
    assert.strictEqual(r.peer, "COMPLETE", r.log.join("\n"))
  })

  it("sends an empty first token and no charset", async () => {
    const peer = track(startPuresasl(py, "bob", "bobpw"))
    assert.strictEqual(await peer.next(), "TOKEN ")
    const server = startServer({ users })
    peer.send(hex((server.evaluateResponse(new Uint8Array(0)) as { token: Uint8Array }).token))
    const response = Buffer.from(unhex((await peer.next()).slice(6))).toString("utf8")
    assert.notInclude(response, "charset")
    assert.include(response, `digest-uri="zookeeper/zk-sasl-md5"`)
    assert.include(response, `realm="zk-sasl-md5"`)
  })

  it("is refused with a wrong password", async () => {
    const r = await clientPeerVsOurServer(track(startPuresasl(py, "bob", "wrong")))
    assert.strictEqual(r.server, "Failed", r.log.join("\n"))
  })
})

// ---------------------------------------------------------------------------------------------
// JAAS files: our parser against the JDK's ConfigFile

interface Parsed {
  readonly sections: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string, ReadonlyArray<readonly [string, string]>]>]>
}

const ours = (config: JaasConfig, names: ReadonlyArray<string>): Parsed => ({
  sections: names.flatMap((name) => {
    const modules = config.get(name)
    if (modules === undefined || modules.length === 0) return [] // the JDK reports empty sections as absent
    return [[name, modules.map((m) => [m.loginModule, m.flag, [...m.options].sort(([a], [b]) => (a < b ? -1 : 1))] as const)] as const]
  })
})

const theirs = async (jp: JavaPeers, text: string, names: ReadonlyArray<string>): Promise<Parsed | "error"> => {
  const file = join(tempDir(), "jaas.conf")
  writeFileSync(file, text)
  const peer = track(startJava(jp, ["jaas", ...names.map(hexText)], { "java.security.auth.login.config": file }))
  const lines: Array<string> = []
  for (;;) {
    const line = await peer.next().catch(() => null)
    if (line === null) break
    lines.push(line)
  }
  if (lines.some((l) => l.startsWith("ERROR"))) return "error"
  const sections: Array<[string, Array<[string, string, Array<[string, string]>]>]> = []
  const text1 = (h: string) => Buffer.from(h, "hex").toString("utf8")
  for (const line of lines) {
    const [kind, a, b] = line.split(" ")
    if (kind === "SECTION") sections.push([text1(a!), []])
    else if (kind === "MODULE") sections.at(-1)![1].push([text1(a!), b!, []])
    else if (kind === "OPTION") sections.at(-1)![1].at(-1)![2].push([text1(a!), text1(b ?? "")])
  }
  for (const [, modules] of sections) for (const m of modules) m[2].sort(([x], [y]) => (x < y ? -1 : 1))
  return { sections }
}

describe.skipIf(noJava)("JAAS parsing agrees with the JDK's ConfigFile", () => {
  const jp = java as JavaPeers
  const names = ["Server", "Client", "Other", "QuorumServer"]
  const accepted = [
    `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_super="adminsecret"\n  user_bob="bobsecret";\n};\nClient {\n  org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="bobsecret";\n};\n`,
    `// c\n/* multi\nline */ Server { a.B OPTIONAL k=v; c.D Sufficient user_x="dq" user_y="a\\"b\\\\c\\tq"; "e.F" "requisite"; };\nOther{};`,
    `Server { M required user_a = "x" user_a = "y" user_b=word-with.dots_and$stuff*; };`,
    `Server { M required user_o="\\101\\477\\8"; };`,
    `Server { M required / lone slash comments the rest of the line ;\n user_a="x"; };`,
    `\uFEFFServer { M required user_a="x"; };`,
    `Server { M required user_ünï="çödé" user_w=étä; };`,
    `Server { M required user_a="open\n; };`,
    `Server { M required user_a="" user_b="a\${nope" user_c=x-y; };`,
    `Server { M required user_a="x"; };\r\n// crlf\r\nOther { M optional; };\r\n/* unclosed\nClient { M required; };`,
    ``
  ]
  const rejected = [
    `Server {\n  M required\n  user_a="x"\n};\n`,
    `Server { M mandatory; };`,
    `Server { M required user_a=123; };`,
    `Server { M required user_a; };`,
    `Server { M required; }`,
    `Server M required; };`,
    `Server { }; Server { };`,
    `Server { M required user_a="x", user_b="y"; };`,
    `Server { M required user_a=-x; };`,
    `Server { M required user_a='single'; };`,
    `Server { M required user_a="\${nope}"; };`,
    `Server { M required user_a="x"; };\n# not a comment\n`
  ]

  it.each(accepted)("accepts %j like the JDK", async (text) => {
    const mine = parse(text, "jaas.conf")
    assert.isTrue(Either.isRight(mine), Either.isLeft(mine) ? mine.left.message : "")
    // A BOM is glued to the first section name by the JDK; we strip it (documented difference):
    // ask the JDK for the glued name too and compare under the stripped one.
    const bom = text.startsWith("\uFEFF")
    const reference = await theirs(jp, text, bom ? [...names, `\uFEFF${names[0]}`] : names)
    assert.notStrictEqual(reference, "error")
    const unglued = (reference as Parsed).sections.map(([name, modules]) => [name.replace(/^\uFEFF/, ""), modules] as const)
    assert.deepStrictEqual(ours((mine as Either.Right<never, JaasConfig>).right, names), { sections: unglued })
  })

  it.each(rejected)("rejects %j like the JDK", async (text) => {
    assert.isTrue(Either.isLeft(parse(text, "jaas.conf")))
    assert.strictEqual(await theirs(jp, text, names), "error")
  })
})
