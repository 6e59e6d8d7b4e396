/**
 * `ezk check-history FILE`: reads a history file (docs/checker.md), runs the checkers it has inputs
 * for and prints VALID or INVALID with the violations and the skipped checkers. Exit code 0 when
 * valid, 1 when invalid, 2 when the file cannot be read or parsed.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { checkHistory, formatReport, HistoryFileError, parse } from "../sim/CheckHistory.js"

export const checkHistoryCommand = (file: string, maxViolations: number): Effect.Effect<void, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file)
    const report = checkHistory(parse(text))
    yield* Console.log(formatReport(report, maxViolations))
    process.exitCode = report.valid ? 0 : 1
  }).pipe(
    Effect.catchAllDefect((e) => (e instanceof HistoryFileError ? Effect.fail(e) : Effect.die(e))),
    Effect.catchAll((e) =>
      Effect.zipRight(Console.error(`ezk check-history: ${file}: ${e.message}`), Effect.sync(() => void (process.exitCode = 2)))
    )
  )
