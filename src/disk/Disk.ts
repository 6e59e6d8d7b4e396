/**
 * The Disk port: the few file operations durable storage needs (positional writes, fdatasync,
 * whole-file and ranged reads, rename, directory fsync), as Effects failing with `DiskError`.
 *
 * Two layers: `layerNode` (node:fs with a real fdatasync) and `layerMemory`, an in-memory disk that
 * remembers what was synced so a simulated `crash()` loses (or tears) exactly the unsynced writes,
 * and that can inject ENOSPC / fsync failures. Storage code only sees `Disk`, so the same code runs
 * on both and a seeded `Random` replays a crash exactly.
 *
 * The port is DiskPort.ts, the layers NodeDisk.ts and MemoryDisk.ts; this module gathers them.
 */
export * from "./DiskPort.js"
export * from "./MemoryDisk.js"
export * from "./NodeDisk.js"
