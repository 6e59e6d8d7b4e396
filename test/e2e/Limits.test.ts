/**
 * Server limits, on one server per target configured with all of them:
 *  - maxClientCnxns=3: a 4th concurrent connection from 127.0.0.1 is closed without a reply; once
 *    one closes, a new one is served;
 *  - jute.maxbuffer=2000 (ezk: `--set`; ZooKeeper reads it only as the JVM system property): a request
 *    frame longer than that closes its connection, unapplied, while other clients carry on; shorter
 *    ones work;
 *  - a 4lw whitelist: every word outside it answers "<w> is not executed because it is not in the
 *    whitelist." (ezk runs the default-style "srvr,ruok"; ZooKeeper also needs `conf`, which
 *    apacheZk.ts uses to tell when it is up).
 */
import { assert, it } from "@effect/vitest"
import { readConnectResponse } from "../../src/wire/ClientRecords.js"
import { CreateMode, Err, Op } from "../../src/wire/Codes.js"
import { JuteReader } from "../../src/wire/Jute.js"
import { FOUR_LETTER_WORDS } from "../../src/server/fourLetter/ServerView.js"
import { connectFrame, openRaw, type RawConnection, requestFrame } from "../interop/rawClient.js"
import { fourLetterWord } from "../support/apacheZk.js"
import { describeTargets, type TargetUnderTest } from "../support/targets.js"
import { closedWithin, openAcl, rawSession, type RawSession, uniquePath, waitUntil } from "./support.js"

const MAX_CNXNS = 3
const JUTE_MAX = 2000

/** Waits until the server has let go of closed connections (a refused 4lw connection answers ""). */
const roomForOne = (t: TargetUnderTest) =>
  waitUntil(async () => (await fourLetterWord(t.server().port, "ruok").catch(() => "")) === "imok", 5000, "a free connection slot")

/**
 * Connects and sends a ConnectRequest: "closed without a reply" when the server drops the
 * connection (ZooKeeper may do so before the connect completes from our side: EPIPE/ECONNRESET).
 */
const refused = async (port: number): Promise<string> => {
  const conn = await openRaw(port).catch(() => undefined)
  if (conn === undefined) return "closed without a reply"
  try {
    conn.write(connectFrame(10_000))
    await closedWithin(conn, 5000)
    return conn.received().length === 0 ? "closed without a reply" : `closed after ${conn.received().length} bytes`
  } catch (e) {
    return `${(e as Error).message} (${conn.received().length} bytes received)`
  } finally {
    conn.destroy()
  }
}

/**
 * A four-letter word on a connection over the limit: "" when the server closes it unanswered. The close
 * may race the word (EPIPE/ECONNRESET count as that); a timeout or any other error is a failure.
 */
const refusedWord = (port: number): Promise<string> =>
  fourLetterWord(port, "ruok").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" || e.code === "ECONNRESET") return ""
    throw e
  })

/** Bytes of a setData frame body (xid, type, path, data, version) for `dataBytes` of data on `path`. */
const setDataFrameLength = (path: string, dataBytes: number) => 4 + 4 + (4 + Buffer.byteLength(path)) + (4 + dataBytes) + 4

describeTargets(
  "server limits",
  (t) => {
    it(`maxClientCnxns=${MAX_CNXNS}: the next connection from the same address is closed; after one closes a new one works`, async () => {
      await roomForOne(t)
      const port = t.server().port
      const open: Array<RawSession> = []
      try {
        for (let i = 0; i < MAX_CNXNS; i++) open.push(await rawSession(port))
        assert.strictEqual(await refused(port), "closed without a reply", `connection ${MAX_CNXNS + 1}`)
        // A four-letter word is a connection like any other: refused too.
        assert.strictEqual(await refusedWord(port), "")
        // The sessions already there are unaffected.
        for (const s of open) assert.strictEqual((await s.call({ type: Op.exists, path: "/", watch: false })).header.err, Err.Ok)

        open.shift()!.close()
        // The server notices the close asynchronously: retry briefly.
        let next: RawSession | undefined
        await waitUntil(
          async () => {
            next = await rawSession(port).catch(() => undefined)
            return next !== undefined
          },
          5000,
          "a new session after one closed"
        )
        open.push(next!)
        assert.strictEqual((await next!.call({ type: Op.exists, path: "/", watch: false })).header.err, Err.Ok)
      } finally {
        for (const s of open) s.close()
      }
    })

    it(`jute.maxbuffer=${JUTE_MAX}: a larger request closes its connection unapplied; others keep working`, async () => {
      await roomForOne(t)
      const port = t.server().port
      const writer = await rawSession(port)
      const other = await rawSession(port)
      try {
        const p = uniquePath("jute")
        assert.strictEqual(
          (await writer.call({ type: Op.create, path: p, data: new Uint8Array(0), acl: openAcl, flags: CreateMode.PERSISTENT, ttl: -1 })).header.err,
          Err.Ok
        )
        const set = (s: RawSession, bytes: number, fill: number) =>
          s.call({ type: Op.setData, path: p, data: new Uint8Array(bytes).fill(fill), version: -1 })
        assert.strictEqual((await set(writer, 1500, 1)).header.err, Err.Ok)
        // A frame of exactly the limit is still accepted.
        const atLimit = JUTE_MAX - setDataFrameLength(p, 0)
        assert.strictEqual(setDataFrameLength(p, atLimit), JUTE_MAX)
        assert.strictEqual((await set(writer, atLimit, 2)).header.err, Err.Ok)

        const tooBig = await set(writer, 3000, 3).then(
          (r) => `replied err ${r.header.err}`,
          (e: Error) => e.message
        )
        assert.strictEqual(tooBig, "connection closed")
        await closedWithin(writer.conn, 2000)

        const read = await other.call({ type: Op.getData, path: p, watch: false })
        assert.strictEqual(read.header.err, Err.Ok)
        const data = read.response?.type === "data" ? read.response.data : null
        assert.strictEqual(data?.length, atLimit, "the oversized write was applied")
        assert.isTrue(data?.every((b) => b === 2))

        // One byte over the limit is refused the same way.
        const over = await rawSession(port)
        const r = await set(over, atLimit + 1, 4).then(
          (x) => `replied err ${x.header.err}`,
          (e: Error) => e.message
        )
        assert.strictEqual(r, "connection closed")
        over.close()
        assert.strictEqual((await set(other, 1500, 5)).header.err, Err.Ok)
      } finally {
        writer.close()
        other.close()
      }
    })

    it("jute.maxbuffer: an oversized frame before the handshake closes the connection too", async () => {
      await roomForOne(t)
      const conn: RawConnection = await openRaw(t.server().port)
      try {
        const frame = connectFrame(10_000)
        const padded = Buffer.alloc(JUTE_MAX + 100)
        frame.copy(padded, 0)
        padded.writeInt32BE(JUTE_MAX + 96, 0)
        conn.write(padded)
        await closedWithin(conn, 3000)
        assert.strictEqual(conn.received().length, 0)
      } finally {
        conn.destroy()
      }
      // A normal handshake still works.
      const ok = await openRaw(t.server().port)
      ok.write(connectFrame(10_000))
      assert.isAbove(readConnectResponse(new JuteReader(await ok.nextFrame())).timeOut, 0)
      ok.write(requestFrame(1, { type: Op.closeSession }))
      ok.destroy()
    })

    it("4lw words outside the whitelist answer that they are not executed", async () => {
      const allowed = t.name === "ezk" ? ["srvr", "ruok"] : ["srvr", "ruok", "conf"]
      for (const w of FOUR_LETTER_WORDS) {
        await roomForOne(t)
        const reply = await fourLetterWord(t.server().port, w)
        if (w === "ruok") assert.strictEqual(reply, "imok")
        else if (w === "srvr") assert.match(reply, /^Zookeeper version: /)
        else if (w === "conf" && allowed.includes(w)) assert.include(reply, "dataDir=")
        else assert.strictEqual(reply, `${w} is not executed because it is not in the whitelist.\n`, w)
      }
    })
  },
  {
    config: { maxClientCnxns: MAX_CNXNS, "4lw.commands.whitelist": "srvr,ruok,conf" },
    // A flag beats the --set above: ezk runs exactly the default-style "srvr,ruok".
    ezkArgs: ["--4lw-whitelist", "srvr,ruok", "--set", `jute.maxbuffer=${JUTE_MAX}`],
    zookeeperJvmFlags: [`-Djute.maxbuffer=${JUTE_MAX}`]
  }
)
