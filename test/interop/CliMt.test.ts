/**
 * cli_mt (the C client's shell, Debian's libzookeeper-mt) drives each target through one scripted
 * session. Its output format: completions print `<path>: rc = <code>` (or `[<path>]: rc = <code>`
 * for create/sync) followed by the result (`\tname = ..`, children as tab-indented lines, data as
 * ` value_len = n` + the bytes, a `Stat:` block); synchronous `exists` prints only
 * `Error <rc> for <path>` on failure; watcher callbacks print `Watcher <TYPE> state = <STATE> for
 * path <p>`. cli_mt's `create` always stores the data "new" with the open ACL; `get` and `ls` leave
 * a watch behind.
 */
import { assert, it } from "@effect/vitest"
import { describeTargets } from "../support/targets.js"
import { cliMt, noCliMt } from "./tools.js"

type Expect = ReadonlyArray<string> | ((lines: ReadonlyArray<string>) => void)

/** The `Stat:` block of cli_mt (`\tczxid=2a`, `\tversion=1\taversion=0`, ...) as key → value. */
const parseStat = (lines: ReadonlyArray<string>): Record<string, string> => {
  const stat: Record<string, string> = {}
  for (const line of lines) {
    for (const part of line.split("\t")) {
      const m = /^\s*(\w+)\s*=\s*(.*?)\s*$/.exec(part)
      if (m !== null) stat[m[1]!] = m[2]!
    }
  }
  return stat
}

/** Children lines (`\tname`) of an ls completion, sorted (server order is unspecified). */
const children = (lines: ReadonlyArray<string>): Array<string> =>
  lines.filter((l) => /^\t[^\t=]+$/.test(l) && !l.includes(" = ")).map((l) => l.slice(1)).sort()

describeTargets("cli_mt (C client)", (t) => {
  it.skipIf(noCliMt())("scripted session: create, ls, get, set, exists, delete, sync, watches", async () => {
    const script: ReadonlyArray<readonly [string, Expect]> = [
      ["create /cm", ["Creating [/cm] node (mode: 0)", "[/cm]: rc = 0", "\tname = /cm"]],
      ["create /cm", ["Creating [/cm] node (mode: 0)", "[/cm]: rc = -110"]], // NodeExists
      ["create +s /cm/s-", ["Creating [/cm/s-] node (mode: 2)", "[/cm/s-]: rc = 0", "\tname = /cm/s-0000000000"]],
      ["create +e /cm/e", ["Creating [/cm/e] node (mode: 1)", "[/cm/e]: rc = 0", "\tname = /cm/e"]],
      ["create +es /cm/es-", ["Creating [/cm/es-] node (mode: 3)", "[/cm/es-]: rc = 0", "\tname = /cm/es-0000000002"]],
      [
        "ls /cm",
        (l) => {
          assert.strictEqual(l[0], "/cm: rc = 0")
          assert.deepStrictEqual(children(l), ["e", "es-0000000002", "s-0000000000"])
        }
      ],
      [
        "get /cm",
        (l) => {
          assert.deepStrictEqual(l.slice(0, 4), ["/cm: rc = 0", " value_len = 3", "new", "Stat:"])
          const stat = parseStat(l.slice(4))
          assert.strictEqual(stat.version, "0")
          assert.strictEqual(stat.aversion, "0")
          assert.strictEqual(stat.ephemeralOwner, "0")
          assert.strictEqual(stat.czxid, stat.mzxid)
          assert.match(stat.czxid ?? "", /^[0-9a-f]+$/)
        }
      ],
      [
        "set /cm world",
        (l) => {
          assert.strictEqual(l[0], "/cm: rc = 0 Stat:")
          const stat = parseStat(l.slice(1))
          assert.strictEqual(stat.version, "1")
          assert.isTrue(Number.parseInt(stat.mzxid!, 16) > Number.parseInt(stat.czxid!, 16))
        }
      ],
      [
        "get /cm",
        (l) => {
          assert.deepStrictEqual(l.slice(0, 4), ["/cm: rc = 0", " value_len = 5", "world", "Stat:"])
          assert.strictEqual(parseStat(l.slice(4)).version, "1")
        }
      ],
      ["exists /cm", []],
      ["exists /nope", ["Error -101 for /nope"]], // NoNode
      ["delete /cm", ["/cm: rc = -111"]], // NotEmpty
      ["wexists /cm/w", ["Error -101 for /cm/w"]], // leaves an exists watch on the missing node
      ["create /cm/w", ["Creating [/cm/w] node (mode: 0)", "[/cm/w]: rc = 0", "\tname = /cm/w"]],
      ["sync /cm", ["[/cm]: rc = 0", "\tname = /cm"]],
      ["delete /cm/w", ["/cm/w: rc = 0"]],
      ["delete /cm/w", ["/cm/w: rc = -101"]],
      ["get /nope", ["/nope: rc = -101", "Stat:", "null"]],
      ["set /nope x", ["/nope: rc = -101 Stat:", "null"]],
      ["create /cm/w/x", ["Creating [/cm/w/x] node (mode: 0)", "[/cm/w/x]: rc = -101"]],
      [
        "ls2 /cm",
        (l) => {
          assert.strictEqual(l[0], "/cm: rc = 0")
          assert.deepStrictEqual(children(l), ["e", "es-0000000002", "s-0000000000"])
          assert.strictEqual(parseStat(l).version, "1")
        }
      ],
      [
        "create2 /c2",
        (l) => {
          assert.deepStrictEqual(l.slice(0, 3), ["Creating [/c2] node (mode: 0)", "[/c2]: rc = 0", "\tname = /c2"])
          assert.strictEqual(parseStat(l.slice(3)).version, "0")
        }
      ],
      ["delete /c2", ["/c2: rc = 0"]],
      ["create +c /cont", ["Creating [/cont] node (mode: 4)", "[/cont]: rc = 0", "\tname = /cont"]],
      ["create +t=3600000 /ttl", ["Creating [/ttl] node (mode: 5)", "[/ttl]: rc = 0", "\tname = /ttl"]]
    ]
    const result = await cliMt(
      t.server().connectString,
      script.map(([c]) => c)
    )
    script.forEach(([command, expect], i) => {
      const lines = result.steps[i]!
      const where = `cli_mt \`${command}\` (step ${i}) printed ${JSON.stringify(lines)}\n--- full output ---\n${result.output}`
      if (typeof expect === "function") {
        try {
          expect(lines)
        } catch (e) {
          throw new Error(`${where}\n${(e as Error).message}`)
        }
      } else assert.deepStrictEqual(lines, [...expect], where)
    })

    const events = result.events.map((e) => `${e.type} ${e.state} ${e.path ?? ""}`.trim())
    assert.strictEqual(events[0], "SESSION_EVENT CONNECTED_STATE", result.output)
    // get /cm left a data watch (set fires it), ls /cm a child watch (create /cm/w fires it),
    // wexists /cm/w an exists watch (create fires it); each fires once.
    assert.deepStrictEqual(
      events.slice(1).sort(),
      [
        "CHANGED_EVENT CONNECTED_STATE /cm",
        "CHILD_EVENT CONNECTED_STATE /cm",
        "CREATED_EVENT CONNECTED_STATE /cm/w",
        // The second get /cm re-armed the data watch on /cm and `ls2 /cm` a child watch; nothing
        // fired them before quit.
      ].sort(),
      result.output
    )

    // A second session: the first one's ephemerals are gone, the rest is there.
    const after = await cliMt(t.server().connectString, ["ls /cm", "get /cm"])
    assert.deepStrictEqual(children(after.steps[0]!), ["s-0000000000"], after.output)
    assert.deepStrictEqual(after.steps[1]!.slice(0, 3), ["/cm: rc = 0", " value_len = 5", "world"], after.output)
  })
}, { ensembles: true })
