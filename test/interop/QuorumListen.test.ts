/**
 * `quorumListenOnAllIPs=true` on real processes: the election ports and the leader's quorum port
 * listen on every interface, so a connection to another loopback address (127.0.0.2) reaches them;
 * without it they listen on the `server.N` host (127.0.0.1) only.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as net from "node:net"
import { type EzkEnsemble, noEzkBuild, startEnsemble } from "../support/ezkEnsemble.js"

/** Whether a TCP connect to host:port is accepted (closed at once). */
const reachable = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port })
    socket.setTimeout(2000, () => {
      socket.destroy()
      resolve(false)
    })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

for (const allIPs of [true, false]) {
  describe.skipIf(noEzkBuild())(`quorumListenOnAllIPs=${allIPs}`, () => {
    let ens: EzkEnsemble
    beforeAll(async () => {
      ens = await startEnsemble({ nodes: 3, config: { quorumListenOnAllIPs: allIPs } })
    })
    afterAll(() => ens?.stopAll())

    it(`the leader's quorum port and the election ports ${allIPs ? "are" : "are not"} reachable on 127.0.0.2`, async () => {
      const leader = ens.peer(await ens.leader())
      assert.isTrue(await reachable("127.0.0.1", leader.quorumPort), "the quorum port on the server.N host")
      assert.strictEqual(await reachable("127.0.0.2", leader.quorumPort), allIPs, "the quorum port on 127.0.0.2")
      for (const p of ens.peers) assert.strictEqual(await reachable("127.0.0.2", p.electionPort), allIPs, `peer ${p.sid}'s election port on 127.0.0.2`)
    })
  })
}
