/** `ezk 4lw`: send a four-letter word over the Transport and collect the reply (no argv library involved). */
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { type Socket, Transport } from "../net/Transport.js"
import { reportAndExit } from "./ServerCommand.js"

/** Failure talking to a server. */
export class FourLetterClientError extends Data.TaggedError("FourLetterClientError")<{
  readonly reason: "Connect" | "Timeout"
  readonly detail: string
}> {
  override get message(): string {
    return this.detail
  }
}

/** Parses `host:port`, `[v6]:port` or `host` (port 2181). */
export const parseServerAddress = (text: string): { readonly host: string; readonly port: number } | undefined => {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text)
  if (m === null) return undefined
  const port = m[2] === undefined ? 2181 : Number(m[2])
  return port > 65535 || m[1] === "" ? undefined : { host: m[1]!, port }
}

/**
 * Sends a word on a fresh connection and returns everything the server writes before closing (ZooKeeper
 * closes after replying, so we never half-close first). `stmk` sends its 8-byte big-endian mask too.
 */
export const sendFourLetterWord = (
  host: string,
  port: number,
  word: string,
  options: { readonly mask?: bigint; readonly timeoutMs?: number } = {}
): Effect.Effect<string, FourLetterClientError> => {
  const timeoutMs = options.timeoutMs ?? 10_000
  const timedOut = () => new FourLetterClientError({ reason: "Timeout", detail: `no reply from ${host}:${port}` })
  return Effect.flatMap(Transport, (transport) =>
    Effect.acquireUseRelease(
      transport.connect({ host, port }).pipe(
        Effect.mapError((e) =>
          e.reason === "Timeout" ? timedOut() : new FourLetterClientError({ reason: "Connect", detail: `${host}:${port}: ${e.detail ?? e.message}` })
        )
      ),
      (socket) => reply(socket, word, options.mask ?? 0n),
      (socket) => Effect.sync(() => socket.destroy())
    ).pipe(Effect.timeoutFail({ duration: timeoutMs, onTimeout: timedOut }))
  )
}

/** Writes the word and collects what the server sends until it closes (a reset after data still counts as the reply). */
const reply = (socket: Socket, word: string, mask: bigint): Effect.Effect<string, FourLetterClientError> =>
  Effect.async<string, FourLetterClientError>((resume) => {
    const chunks: Array<Uint8Array> = []
    let done = false
    const text = () => Buffer.concat(chunks).toString("utf8")
    const finish = (result: Effect.Effect<string, FourLetterClientError>) => {
      if (done) return
      done = true
      resume(result)
    }
    socket.setHandlers({
      data: (chunk) => void chunks.push(chunk),
      end: () => finish(Effect.succeed(text())),
      close: () => finish(Effect.succeed(text())),
      error: (e) =>
        finish(
          chunks.length > 0 && e.reason === "Reset"
            ? Effect.succeed(text())
            : Effect.fail(new FourLetterClientError({ reason: "Connect", detail: `${socket.remoteAddress}:${socket.remotePort}: ${e.detail ?? e.message}` }))
        )
    })
    const payload = Buffer.alloc(word === "stmk" ? 12 : 4)
    payload.write(word.slice(0, 4), 0, "latin1")
    if (word === "stmk") payload.writeBigInt64BE(mask, 4)
    socket.write(payload)
  })

/** `ezk 4lw <word>`: prints the reply (one trailing newline at most); errors print one line, exit 1. */
export const fourLetterCommand = (
  word: string,
  server: string,
  options: { readonly mask?: bigint | undefined; readonly timeoutMs?: number | undefined } = {}
): Effect.Effect<void> => {
  const addr = parseServerAddress(server)
  if (addr === undefined) return reportAndExit(`--server: expected host:port, got ${JSON.stringify(server)}`, 2)
  return sendFourLetterWord(addr.host, addr.port, word, {
    ...(options.mask === undefined ? {} : { mask: options.mask }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
  }).pipe(
    Effect.flatMap((text) => Console.log(text.endsWith("\n") ? text.slice(0, -1) : text)),
    Effect.catchTag("FourLetterClientError", (e) => reportAndExit(e.message, 1))
  )
}
