/** The Disk port and its layers (node:fs, in-memory with crash/fault simulation). */
export * as Disk from "./Disk.js"
