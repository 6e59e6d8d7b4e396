/**
 * Host facts for `envi` and the fd gauges of `mntr`, read from Node (the effectful edge of the 4lw code).
 *
 * `envi` keeps ZooKeeper's exact key set and order, because tools grep for `zookeeper.version`,
 * `host.name`, `os.*` and `user.*`. The `java.*` keys describe the runtime, so ezk reports the Node
 * equivalent under the same key (documented choice; no tool should treat them as a JVM):
 * `java.version` = Node version, `java.vendor` = `Node.js`, `java.home` = the Node install prefix,
 * `java.class.path` = the entry script, `java.library.path` = `NODE_PATH` (empty if unset),
 * `java.io.tmpdir` = os.tmpdir(), `java.compiler` = `<NA>` (as on every modern JVM).
 * `os.arch` uses Java's names (`amd64`, `aarch64`, ...). `os.memory.*` reports the V8 heap the way
 * Runtime.free/max/totalMemory report the Java heap, in whole MB.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as v8 from "node:v8"

const JAVA_ARCH: Readonly<Record<string, string>> = {
  x64: "amd64",
  arm64: "aarch64",
  ia32: "x86",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64"
}

/** Java's os.name for a Node platform (`Linux`, `Mac OS X`, `Windows`, ...). */
const javaOsName = (): string => {
  switch (process.platform) {
    case "linux":
      return "Linux"
    case "darwin":
      return "Mac OS X"
    case "win32":
      return "Windows"
    default:
      return os.type()
  }
}

const mb = (bytes: number): string => `${Math.floor(bytes / (1024 * 1024))}MB`

const safe = (f: () => string, fallback: string): string => {
  try {
    return f()
  } catch {
    return fallback
  }
}

/** The `envi` lines for this process, in ZooKeeper's order. */
export const nodeEnvironment = (version: string): Array<readonly [string, string]> => {
  const heap = v8.getHeapStatistics()
  return [
    ["zookeeper.version", version],
    ["host.name", safe(() => os.hostname(), "<NA>")],
    ["java.version", process.versions.node],
    ["java.vendor", "Node.js"],
    ["java.home", path.dirname(path.dirname(process.execPath))],
    ["java.class.path", process.argv[1] ?? ""],
    ["java.library.path", process.env["NODE_PATH"] ?? ""],
    ["java.io.tmpdir", os.tmpdir()],
    ["java.compiler", "<NA>"],
    ["os.name", javaOsName()],
    ["os.arch", JAVA_ARCH[process.arch] ?? process.arch],
    ["os.version", os.release()],
    ["user.name", safe(() => os.userInfo().username, "?")],
    ["user.home", os.homedir()],
    ["user.dir", process.cwd()],
    ["os.memory.free", mb(heap.total_heap_size - heap.used_heap_size)],
    ["os.memory.max", mb(heap.heap_size_limit)],
    ["os.memory.total", mb(heap.total_heap_size)]
  ]
}

/**
 * Open and maximum file descriptors (`zk_open_file_descriptor_count`, `zk_max_file_descriptor_count`),
 * from /proc on Linux; 0 where unknown, as ZooKeeper prints nothing useful off Unix either.
 */
export const fileDescriptorCounts = (): { readonly open: number; readonly max: number } => {
  let open = 0
  let max = 0
  try {
    open = fs.readdirSync("/proc/self/fd").length
  } catch {
    open = 0
  }
  try {
    const limits = fs.readFileSync("/proc/self/limits", "utf8")
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits)
    if (m !== null && m[1] !== "unlimited") max = Number(m[1])
  } catch {
    max = 0
  }
  return { open, max }
}
