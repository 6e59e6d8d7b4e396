/**
 * The four-letter-word registry (client.md §14): word → command. The client-port handler looks at the
 * first 4 bytes of a fresh connection with {@link parseWord}; if they name a command it replies with
 * {@link execute}'s text and closes the connection, otherwise the bytes are a frame length as usual.
 *
 * Order of checks, as NIOServerCnxn.checkFourLetterWord: whitelist first (a non-whitelisted word gets
 * {@link Format.notWhitelisted} and nothing more is read), then for `stmk` read the 8-byte mask, then run.
 * Commands that need a running server print {@link Format.NOT_SERVING} while `view.isServing()` is false;
 * `ruok`, `envi`, `gtmk`, `stmk` and `isro` answer regardless, as in ZooKeeper.
 */
import * as Effect from "effect/Effect"
import * as Format from "./Format.js"
import { formatMntr } from "./Mntr.js"
import { FOUR_LETTER_WORDS, type FourLetterWord, type ServerView } from "./ServerView.js"

/** A four-letter command. */
export interface FourLetterCommand {
  readonly word: FourLetterWord
  /** Bytes that follow the word on the wire: `stmk` carries an 8-byte big-endian mask. */
  readonly argBytes: 0 | 8
  /** Whether the command prints `NOT_SERVING` while the server is not serving. */
  readonly requiresServing: boolean
  /** Builds the reply text (the server closes the connection after writing it). */
  readonly run: (view: ServerView, arg: bigint | undefined) => Effect.Effect<string>
}

/** First 4 bytes `0xfff4fffd` (telnet's "interrupt process"): ZooKeeper just closes the connection. */
export const TELNET_CLOSE = 0xfff4fffd

const sync = (f: (view: ServerView) => string) => (view: ServerView) => Effect.sync(() => f(view))

const stat = (withClients: boolean) => (view: ServerView): string =>
  Format.stat({
    version: view.version,
    mode: view.mode(),
    stats: view.stats(),
    ...(withClients ? { connections: view.connections() } : {}),
    proposalSizes: view.proposalSizes()
  })

const mntr = (view: ServerView): string => {
  const s = view.stats()
  return formatMntr({
    version: view.version,
    mode: view.mode(),
    minLatency: s.latency.min,
    avgLatency: s.latency.avg,
    maxLatency: s.latency.max,
    packetsSent: s.packetsSent,
    packetsReceived: s.packetsReceived,
    numAliveConnections: s.numAliveConnections,
    outstandingRequests: s.outstandingRequests,
    znodeCount: s.nodeCount,
    view: view.mntr()
  })
}

type Spec = Omit<FourLetterCommand, "word" | "argBytes"> & { readonly argBytes?: 0 | 8 }

const specs: { readonly [W in FourLetterWord]: Spec } = {
  ruok: { requiresServing: false, run: () => Effect.succeed(Format.ruok()) },
  isro: { requiresServing: false, run: sync((v) => Format.isro(v.isServing(), v.mode())) },
  srvr: { requiresServing: true, run: sync(stat(false)) },
  stat: { requiresServing: true, run: sync(stat(true)) },
  cons: { requiresServing: true, run: sync((v) => Format.cons(v.connections())) },
  wchs: { requiresServing: true, run: sync((v) => Format.wchs(v.dataWatches())) },
  wchc: { requiresServing: true, run: sync((v) => Format.wchc(v.dataWatches())) },
  wchp: { requiresServing: true, run: sync((v) => Format.wchp(v.dataWatches())) },
  dump: {
    requiresServing: true,
    run: sync((v) =>
      Format.dump({ sessionExpiry: v.sessionExpiry(), ephemerals: v.ephemerals(), connectionExpiry: v.connectionExpiry() })
    )
  },
  conf: { requiresServing: true, run: (v) => Effect.map(v.dirSizes, (sizes) => Format.conf(v.conf(), sizes)) },
  dirs: { requiresServing: true, run: (v) => Effect.map(v.dirSizes, Format.dirs) },
  mntr: { requiresServing: true, run: sync(mntr) },
  envi: { requiresServing: false, run: sync((v) => Format.envi(v.environment())) },
  gtmk: { requiresServing: false, run: sync((v) => Format.traceMask(v.traceMask())) },
  stmk: {
    requiresServing: false,
    argBytes: 8,
    run: (v, arg) => {
      const mask = arg ?? 0n
      return Effect.as(v.setTraceMask(mask), Format.traceMask(mask))
    }
  },
  hash: { requiresServing: true, run: sync((v) => Format.hash(v.digestLog())) },
  crst: { requiresServing: true, run: (v) => Effect.as(v.resetConnectionStats, Format.CONNECTION_STATS_RESET) },
  srst: { requiresServing: true, run: (v) => Effect.as(v.resetServerStats, Format.SERVER_STATS_RESET) }
}

/** Every command by word. */
export const registry: ReadonlyMap<FourLetterWord, FourLetterCommand> = new Map(
  FOUR_LETTER_WORDS.map((word) => [word, { word, argBytes: specs[word].argBytes ?? 0, ...specs[word] }] as const)
)

const WORDS: ReadonlySet<string> = new Set(FOUR_LETTER_WORDS)

/** Narrows a string to a known word. */
export const isFourLetterWord = (s: string): s is FourLetterWord => WORDS.has(s)

/** The word named by the first 4 bytes of a connection, or undefined (then they are a frame length). */
export const parseWord = (bytes: Uint8Array): FourLetterWord | undefined => {
  if (bytes.length < 4) return undefined
  const s = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!)
  return isFourLetterWord(s) ? s : undefined
}

/**
 * Whether `word` may run under `whitelist` (ZkConfig.fourLetterWordWhitelist, already resolved: `*`
 * expanded and `srvr` always present, as FourLetterCommands.getWhiteList does).
 */
export const isWhitelisted = (whitelist: ReadonlySet<string>, word: FourLetterWord): boolean => whitelist.has(word)

/**
 * Runs `word` with ZooKeeper's checks: not whitelisted → the whitelist text; needs a serving server
 * and the server is not serving → NOT_SERVING; otherwise the command's text. `arg` is `stmk`'s mask.
 */
export const execute = (
  view: ServerView,
  whitelist: ReadonlySet<string>,
  word: FourLetterWord,
  arg?: bigint
): Effect.Effect<string> => {
  if (!isWhitelisted(whitelist, word)) return Effect.succeed(Format.notWhitelisted(word))
  const cmd = registry.get(word)!
  if (cmd.requiresServing && !view.isServing()) return Effect.succeed(Format.NOT_SERVING)
  return cmd.run(view, arg)
}
