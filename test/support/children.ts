/**
 * Child processes the tests start (servers, ensembles, JVMs): every one still running is SIGKILLed
 * when the test worker exits without stopping it, so no test leaves a server behind.
 */
import type { ChildProcess } from "node:child_process"

const running = new Set<ChildProcess>()
let hooked = false

/** Kills `child` if it is still running when this process exits. */
export const killOnExit = (child: ChildProcess): void => {
  if (!hooked) {
    hooked = true
    process.on("exit", () => {
      for (const c of running) c.kill("SIGKILL")
    })
  }
  running.add(child)
  const forget = () => void running.delete(child)
  child.once("exit", forget)
  child.once("error", forget)
}
