/**
 * `ezk check-history FILE` as a user runs it (the built CLI): VALID exits 0, INVALID exits 1 and
 * prints the violation, a malformed file exits 2 naming the line.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ezkCli, noEzkBuild } from "../support/ezkServer.js"

const lines = (...objects: ReadonlyArray<object>): string => objects.map((o) => JSON.stringify(o)).join("\n") + "\n"
const create = { type: "op", process: 1, session: "0x1", kind: "create", key: "/k0", value: "a", invokeMs: 0, completeMs: 10, outcome: "ok", zxid: "0x100000001" }
const peer = { type: "peer", sid: 1, lastZxid: "0x100000001", digest: "d", log: [{ zxid: "0x100000001", session: "0x1", writes: [{ kind: "create", key: "/k0", value: "a" }] }] }
const read = { type: "op", process: 2, session: "0x2", kind: "get", key: "/k0", invokeMs: 20, completeMs: 30, outcome: "ok", zxid: "0x100000001" }

const checkHistory = (text: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ezk-check-history-"))
  try {
    const file = path.join(dir, "history.jsonl")
    fs.writeFileSync(file, text)
    const r = spawnSync(process.execPath, [ezkCli, "check-history", file], { encoding: "utf8", timeout: 30_000 })
    return { code: r.status, out: r.stdout, err: r.stderr }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe.skipIf(noEzkBuild())("ezk check-history", () => {
  it("a valid history: VALID, exit 0, the skipped checkers named", () => {
    const r = checkHistory(lines(create, { ...read, read: { exists: true, value: "a", version: 0, mzxid: "0x100000001" } }, peer))
    assert.strictEqual(r.code, 0, r.err)
    assert.match(r.out, /^VALID: 2 ops \(2 ok, 0 fail, 0 info\), 1 peer logs, 1 committed txns, 0 violations$/m)
    assert.include(r.out, "skipped: one-leader (the file has no leader sightings)")
  })

  it("a stale read: INVALID, exit 1, the violation printed", () => {
    const r = checkHistory(lines(create, { ...read, read: { exists: false } }, peer))
    assert.strictEqual(r.code, 1, r.err)
    assert.match(r.out, /^INVALID: /)
    assert.include(r.out, "violation read-sees-acked-writes: read #1 of /k0 answered at 0x100000001 saw absent, but write #0 on it was acknowledged at 0x100000001")
  })

  it("a malformed file: exit 2 and the line that is wrong", () => {
    const r = checkHistory(lines(create) + "not json\n")
    assert.strictEqual(r.code, 2)
    assert.match(r.err, /ezk check-history: .*history\.jsonl: line 2: not JSON/)
  })
})
