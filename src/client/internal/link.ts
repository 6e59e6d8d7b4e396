/**
 * One TCP connection of a session ("link") and the frames that open it: the ConnectRequest, the
 * ping, and the setWatches packets that re-arm watches after a reconnect. Pure apart from `Link`'s
 * mutable read buffer, which only the read loop (connection.ts) touches.
 */
import { Deferred, FiberId } from "effect"
import { type ConnectResponse, type SetWatchesRequest, writeConnectRequest } from "../../wire/ClientRecords.js"
import { Op } from "../../wire/Codes.js"
import { JuteWriter } from "../../wire/Jute.js"
import type { Socket } from "../../net/Transport.js"
import type { Server } from "../ConnectString.js"
import type { ConnectionLoss } from "../ZooKeeperError.js"

/** One TCP connection to one server; replaced on every reconnect. */
export class Link {
  connectResponse: ConnectResponse | null = null
  dead = false
  reason = "connection closed by server"
  chunks: Array<Uint8Array> = []
  buffered = 0
  /** Bytes needed before it is worth parsing again (a length prefix, or a whole frame). */
  want = 4
  lastRecvAt: number
  /** Completed by the ConnectResponse, or failed when the link dies first. */
  readonly handshake: Deferred.Deferred<ConnectResponse, ConnectionLoss> = Deferred.unsafeMake(FiberId.none)
  /** Completed with the reason once the link is gone. */
  readonly closed: Deferred.Deferred<string> = Deferred.unsafeMake(FiberId.none)
  constructor(
    readonly socket: Socket,
    /** The server of the server list this link was opened for. */
    readonly server: Server,
    /** The address `server.host` resolved to for this link. */
    readonly address: string,
    now: number
  ) {
    this.lastRecvAt = now
  }
}

/** A ping request (xid -2, no body), length-prefixed. */
export const pingFrame = new Uint8Array([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, Op.ping])

/** What the ConnectRequest carries. */
export interface ConnectParams {
  readonly lastZxidSeen: number
  readonly timeOut: number
  readonly sessionId: bigint
  readonly passwd: Uint8Array
  readonly readOnly: boolean
}

/** The length-prefixed ConnectRequest frame. */
export const connectFrame = (w: JuteWriter, params: ConnectParams): Uint8Array => {
  w.reset()
  const mark = w.mark()
  writeConnectRequest(w, { protocolVersion: 0, ...params })
  w.patch(mark)
  return w.copy()
}

/** Above this many bytes of paths, setWatches is split into several packets (Java client: 128 KiB). */
const setWatchesBytesMax = 128 * 1024

/** The watched paths of a session, by kind, as setWatches lists them. */
export interface WatchedPaths {
  readonly data: ReadonlyArray<string>
  readonly exist: ReadonlyArray<string>
  readonly child: ReadonlyArray<string>
  readonly persistent: ReadonlyArray<string>
  readonly recursive: ReadonlyArray<string>
}

/**
 * The setWatches packets that re-arm `paths` on a new link (none when nothing is watched):
 * setWatches2 when persistent watches exist, split so that no packet exceeds ~128 KiB of paths.
 */
export const setWatchesRequests = (paths: WatchedPaths, relativeZxid: number): Array<SetWatchesRequest> => {
  const lists = [paths.data, paths.exist, paths.child, paths.persistent, paths.recursive] as const
  if (lists.every((l) => l.length === 0)) return []
  const type = paths.persistent.length > 0 || paths.recursive.length > 0 ? Op.setWatches2 : Op.setWatches
  const requests: Array<SetWatchesRequest> = []
  let batch: Array<Array<string>> = [[], [], [], [], []]
  let bytes = 0
  const flush = () => {
    requests.push({
      type,
      relativeZxid,
      dataWatches: batch[0]!,
      existWatches: batch[1]!,
      childWatches: batch[2]!,
      persistentWatches: batch[3]!,
      persistentRecursiveWatches: batch[4]!
    })
    batch = [[], [], [], [], []]
    bytes = 0
  }
  lists.forEach((list, i) => {
    for (const path of list) {
      if (bytes + path.length > setWatchesBytesMax && bytes > 0) flush()
      batch[i]!.push(path)
      bytes += path.length
    }
  })
  if (bytes > 0) flush()
  return requests
}
