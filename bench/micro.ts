/**
 * Micro-measurements that used to be timing assertions in tests (tests now check only the result):
 *  - FrameSplitter: a maximal frame fed one byte at a time (linear, not quadratic, copying);
 *  - memory Disk: 2000 small writes + datasyncs into a sparse 64 MiB preallocated file.
 *
 *   npx vite-node bench/micro.ts
 */
import { Effect } from "effect"
import { makeMemory } from "../src/disk/Disk.js"
import { DEFAULT_MAX_FRAME, FrameSplitter, frame } from "../src/wire/Frame.js"

const timed = (label: string, run: () => void) => {
  const t0 = performance.now()
  run()
  console.log(`${label}: ${(performance.now() - t0).toFixed(1)} ms`)
}

timed(`FrameSplitter, ${DEFAULT_MAX_FRAME}-byte frame fed 1 byte at a time`, () => {
  const stream = frame(new Uint8Array(DEFAULT_MAX_FRAME))
  const s = new FrameSplitter()
  for (let i = 0; i < stream.length; i++) s.feed(stream.subarray(i, i + 1))
})

timed("memory Disk, 2000 × (100-byte write + datasync) into a sparse 64 MiB file", () =>
  Effect.runSync(
    Effect.gen(function* () {
      const { disk } = makeMemory()
      yield* disk.mkdirp("/d")
      const f = yield* disk.open("/d/log", "create")
      yield* f.write(new Uint8Array(1), 64 * 1024 * 1024 - 1)
      for (let i = 0; i < 2000; i++) {
        yield* f.write(new Uint8Array(100).fill(7), i * 100)
        yield* f.datasync
      }
    })
  )
)
