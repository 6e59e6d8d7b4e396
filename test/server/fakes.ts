/** What in-process ServerCore tests share: a socket that records its output, a config, frame helpers. */
import type { ClientSocket } from "../../src/server/Connection.js"
import type { CoreConfig } from "../../src/server/CoreConfig.js"
import { type ConnectRequest, type Request, writeConnectRequest, writeRequest, writeRequestHeader } from "../../src/wire/ClientRecords.js"
import { JuteWriter } from "../../src/wire/Jute.js"

/** A client socket that keeps what the server wrote. */
export class FakeSocket implements ClientSocket {
  writableLength = 0
  readonly written: Array<Uint8Array> = []
  ended = false
  destroyed = false
  constructor(
    readonly remoteAddress = "127.0.0.1",
    readonly remotePort = 40000
  ) {}
  write(data: Uint8Array): boolean {
    this.written.push(data)
    return true
  }
  end(data?: Uint8Array): void {
    if (data) this.written.push(data)
    this.ended = true
  }
  destroy(): void {
    this.ended = true
    this.destroyed = true
  }
  pause(): void {}
  resume(): void {}
}

/** The settings of a standalone ZooKeeper 3.8 with tickTime 2000 (the captured conversations' server). */
export const coreConfig: CoreConfig = {
  serverId: 1,
  tickTime: 2000,
  minSessionTimeout: 4000,
  maxSessionTimeout: 40000,
  maxClientCnxns: 60,
  maxFrame: 0xfffff,
  extendedTypes: true,
  digestEnabled: true,
  saslUsers: null,
  saslAclEnabled: false,
  containerMaxNeverUsedMs: 0,
  containerMaxPerMinute: 10000,
  sessionlessCnxnTimeoutMs: 10000,
  outstandingLimit: 1000
}

/** A length-prefixed frame of whatever `write` encodes. */
export const frame = (write: (w: JuteWriter) => void): Uint8Array => {
  const w = new JuteWriter(256)
  const mark = w.mark()
  write(w)
  w.patch(mark)
  return w.copy()
}

/** A ConnectRequest frame (a new session unless `sessionId` and `passwd` are given). */
export const connectFrame = (c: Partial<ConnectRequest> = {}): Uint8Array =>
  frame((w) => writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: null, ...c }))

/** A request frame: header (xid, opcode) and body. */
export const requestFrame = (xid: number, q: Request): Uint8Array =>
  frame((w) => {
    writeRequestHeader(w, { xid, type: q.type })
    writeRequest(w, q)
  })

/** The frames written to `socket` (each without its length prefix). */
export const framesOf = (socket: FakeSocket): Array<Uint8Array> => {
  const all = Buffer.concat(socket.written)
  const out: Array<Uint8Array> = []
  for (let i = 0; i + 4 <= all.length; ) {
    const n = all.readInt32BE(i)
    out.push(all.subarray(i + 4, i + 4 + n))
    i += 4 + n
  }
  return out
}

/** A logger that drops everything. */
export const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
