/**
 * The quorum epoch files `acceptedEpoch` and `currentEpoch` in the snap dir (storage.md §1):
 * decimal ASCII without a newline, replaced atomically through `<name>.tmp` + rename.
 */
import { Data, Effect } from "effect"
import { Disk, type DiskError, join } from "../disk/Disk.js"

export type EpochFile = "acceptedEpoch" | "currentEpoch"

/** An epoch file whose content is not a decimal number. */
export class EpochFileCorrupt extends Data.TaggedError("EpochFileCorrupt")<{ readonly file: string; readonly content: string }> {
  override get message(): string {
    return `epoch file ${this.file} holds ${JSON.stringify(this.content)}, not a number`
  }
}

/** Reads an epoch file; null when it does not exist. A trailing newline is accepted (Java's readLine). */
export const read = (snapDir: string, name: EpochFile | `${EpochFile}.tmp`): Effect.Effect<number | null, DiskError | EpochFileCorrupt, Disk> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const path = join(snapDir, name)
    if (!(yield* disk.exists(path))) return null
    const text = new TextDecoder().decode(yield* disk.readFile(path))
    const line = text.replace(/\r?\n$/, "")
    if (!/^-?\d{1,16}$/.test(line)) return yield* new EpochFileCorrupt({ file: path, content: text })
    return Number(line)
  })

/** Writes an epoch file durably: `<name>.tmp`, fdatasync, rename, directory fsync. */
export const write = (snapDir: string, name: EpochFile, epoch: number): Effect.Effect<void, DiskError, Disk> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const tmp = join(snapDir, `${name}.tmp`)
    yield* disk.writeFile(tmp, new TextEncoder().encode(String(epoch)))
    yield* disk.rename(tmp, join(snapDir, name))
    yield* disk.syncDir(snapDir)
  })
