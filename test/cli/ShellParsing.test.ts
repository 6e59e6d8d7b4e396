/**
 * The shell's pure parts against what zkCli.sh 3.8 does: its argv, how a typed line splits into
 * words, commons-cli's flag parsing, the Java client's path check, Java's Date.toString and the
 * `config -c` summary.
 */
import { assert, describe, it } from "@effect/vitest"
import { parseOptions, parseShellArgs, splitLine } from "../../src/cli/shell/CommandLine.js"
import { clientConfig } from "../../src/cli/shell/AdminCommands.js"
import { childList, javaDate, javaHex, pathError, permString } from "../../src/cli/shell/Format.js"

describe("ezk shell parsing", () => {
  it("argv: options before the command, zkCli's defaults, the rest is the command", () => {
    assert.deepStrictEqual(parseShellArgs([]), { server: "localhost:2181", timeoutMs: 30000, readOnly: false, command: undefined })
    assert.deepStrictEqual(parseShellArgs(["-server", "h:1", "-timeout", "5000", "-r", "get", "-s", "/a"]), {
      server: "h:1",
      timeoutMs: 5000,
      readOnly: true,
      command: ["get", "-s", "/a"]
    })
    // Unknown options are skipped, as zkCli does; -client-configuration takes a value.
    assert.deepStrictEqual(parseShellArgs(["-waitforconnection", "-client-configuration", "f", "ls", "/"]), {
      server: "localhost:2181",
      timeoutMs: 30000,
      readOnly: false,
      command: ["ls", "/"]
    })
    assert.strictEqual(parseShellArgs(["-server"]), "Error: no argument found for option -server")
    assert.strictEqual(parseShellArgs(["-timeout", "soon"]), "Error: -timeout must be a positive number of milliseconds, got soon")
  })

  it("a line splits on blanks; quotes group words and are dropped", () => {
    assert.deepStrictEqual(splitLine("  create  /a   x "), ["create", "/a", "x"])
    assert.deepStrictEqual(splitLine(`create /a "two words" 'and three more'`), ["create", "/a", "two words", "and three more"])
    assert.deepStrictEqual(splitLine(`set /a a"b`), ["set", "/a", `a"b`])
    assert.deepStrictEqual(splitLine(""), [])
  })

  it("flags as commons-cli parses them, in any position", () => {
    const spec = { s: false, v: true, w: false }
    const p = parseOptions(spec, ["set", "/a", "-s", "x", "-v", "3"])
    assert.deepStrictEqual(typeof p === "string" ? p : [p.args, [...p.flags].sort(), [...p.values]], [
      ["set", "/a", "x"],
      ["s", "v"],
      [["v", "3"]]
    ])
    const joined = parseOptions(spec, ["set", "-sv7", "/a", "x"])
    assert.deepStrictEqual(typeof joined === "string" ? joined : [...joined.values], [["v", "7"]])
    const negative = parseOptions(spec, ["set", "-v", "-1", "/a", "-5"])
    assert.deepStrictEqual(typeof negative === "string" ? negative : [negative.args, [...negative.values]], [
      ["set", "/a", "-5"],
      [["v", "-1"]]
    ])
    assert.strictEqual(parseOptions(spec, ["get", "-x", "/a"]), "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x")
    assert.strictEqual(parseOptions(spec, ["get", "--all"]), "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: --all")
    assert.strictEqual(parseOptions(spec, ["set", "/a", "x", "-v"]), "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v")
    const rest = parseOptions(spec, ["create", "--", "-s"])
    assert.deepStrictEqual(typeof rest === "string" ? rest : rest.args, ["create", "-s"])
  })

  it("paths are checked as the Java client's PathUtils does", () => {
    assert.isUndefined(pathError("/"))
    assert.isUndefined(pathError("/a/b.c/..d"))
    assert.strictEqual(pathError(""), "Path length must be > 0")
    assert.strictEqual(pathError("a"), "Path must start with / character")
    assert.strictEqual(pathError("/a/"), "Path must not end with / character")
    assert.isUndefined(pathError("/a/", true)) // a sequential create appends the counter
    assert.strictEqual(pathError("/a//b"), `Invalid path string "/a//b" caused by empty node name specified @3`)
    assert.strictEqual(pathError("/a/./b"), `Invalid path string "/a/./b" caused by relative paths not allowed @3`)
    assert.strictEqual(pathError("/a/.."), `Invalid path string "/a/.." caused by relative paths not allowed @4`)
    assert.strictEqual(pathError("/a\u0001"), `Invalid path string "/a\u0001" caused by invalid character @2`)
    assert.strictEqual(pathError("/a\u0000"), `Invalid path string "/a\u0000" caused by null character not allowed @2`)
  })

  it("Java's formats: Date.toString, Long.toHexString, perms, sorted lists", () => {
    const tz = process.env.TZ
    process.env.TZ = "UTC"
    try {
      assert.strictEqual(javaDate(Date.UTC(2026, 10, 25, 9, 5, 1)), "Wed Nov 25 09:05:01 UTC 2026")
      assert.strictEqual(javaDate(0), "Thu Jan 01 00:00:00 UTC 1970")
    } finally {
      if (tz === undefined) delete process.env.TZ
      else process.env.TZ = tz
    }
    assert.strictEqual(javaHex(0x1234), "1234")
    assert.strictEqual(javaHex(-1), "ffffffffffffffff")
    assert.strictEqual(javaHex(0x8000000000000001n), "8000000000000001")
    assert.strictEqual(permString(31), "cdrwa")
    assert.strictEqual(permString(1 | 16), "ra")
    assert.strictEqual(childList(["b", "a", "B", "a-1"]), "[B, a, a-1, b]")
  })

  it("config -c: the version and every server's client address", () => {
    const config = "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\nserver.2=10.0.0.2:2888:3888:observer;2182\nversion=100000003"
    assert.strictEqual(clientConfig(config), "100000003 0.0.0.0:2181,0.0.0.0:2182")
    assert.strictEqual(clientConfig(""), " ")
  })
})
