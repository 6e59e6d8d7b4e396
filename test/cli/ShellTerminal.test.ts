/**
 * `ezk shell` in a real terminal, as a person uses it: tmux runs the built CLI in a pane, the test
 * types keys (including Tab, arrow keys, Ctrl-C and Ctrl-D) and reads the screen. Covers the prompt, tab
 * completion of commands and znode paths (asked from the server), history, and a watch event
 * arriving while the prompt waits for input.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type EzkServer, ezkCli, startEzk } from "../support/ezkServer.js"
import { missingTool } from "../support/requireTool.js"

const tmuxPath = ["/usr/bin/tmux", "/usr/local/bin/tmux"].find((p) => existsSync(p))
const noTmux = () => missingTool("tmux", tmuxPath !== undefined, "apt-get install tmux")

describe.skipIf(noTmux())("ezk shell in a terminal (tmux)", () => {
  let server: EzkServer
  let dir: string
  const socket = `ezk-shell-test-${process.pid}`
  const tmux = (...args: Array<string>) => execFileSync(tmuxPath!, ["-L", socket, ...args], { encoding: "utf8" })
  const screen = () => tmux("capture-pane", "-p", "-t", "shell")
  const keys = (...k: Array<string>) => void tmux("send-keys", "-t", "shell", ...k)
  /** Text typed literally (no key names). */
  const type = (text: string) => void tmux("send-keys", "-t", "shell", "-l", text)

  /** Polls `check` until it holds; false after 20 s. */
  const until = async (check: () => boolean): Promise<boolean> => {
    for (let i = 0; i < 200; i++) {
      if (check()) return true
      await new Promise((r) => setTimeout(r, 100))
    }
    return false
  }
  /** Waits until the screen satisfies `check`; fails with the screen otherwise. */
  const waitFor = async (what: string, check: (s: string) => boolean): Promise<string> => {
    let last = ""
    if (await until(() => check((last = screen())))) return last
    throw new Error(`screen never showed ${what}:\n${last}`)
  }
  /** The screen's last non-blank line (where the prompt and the typed text are). */
  const lastLine = (s: string) => s.trimEnd().split("\n").pop() ?? ""
  const prompt = (n: number) => `[zk: ${server.connectString}(CONNECTED) ${n}] `

  beforeAll(async () => {
    server = await startEzk()
    dir = mkdtempSync(path.join(os.tmpdir(), "ezk-shell-tty-"))
    const command = [process.execPath, ezkCli, "shell", "-server", server.connectString].map((a) => `'${a}'`).join(" ")
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "shell", "-x", "160", "-y", "40", "-e", `EZK_SHELL_HISTORY=${dir}/history`, command)
  }, 60_000)

  afterAll(async () => {
    try {
      tmux("kill-server")
    } catch {
      // already gone with the last session
    }
    await server?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it("prompt, commands, Tab completion, history, Ctrl-C, watch events, Ctrl-D", async () => {
    await waitFor("the connected prompt", (s) => lastLine(s) === prompt(0).trimEnd())

    type("create /terminal hello")
    keys("Enter")
    await waitFor("Created", (s) => s.includes("Created /terminal") && lastLine(s) === prompt(1).trimEnd())

    // A unique command name completes in place.
    type("getAl")
    keys("Tab")
    await waitFor("getAllChildrenNumber completed", (s) => lastLine(s) === `${prompt(1)}getAllChildrenNumber`)
    // A path completes from the server's children: /te → /terminal.
    type(" /te")
    keys("Tab")
    await waitFor("/terminal completed", (s) => lastLine(s) === `${prompt(1)}getAllChildrenNumber /terminal`)
    keys("Enter")
    await waitFor("the count", (s) => /\n0\n/.test(s) && lastLine(s) === prompt(2).trimEnd())

    // Two candidates: Tab twice lists both.
    type("create /terminal/alpha")
    keys("Enter")
    type("create /terminal/alps")
    keys("Enter")
    await waitFor("both created", (s) => s.includes("Created /terminal/alps") && lastLine(s) === prompt(4).trimEnd())
    type("ls /terminal/a")
    keys("Tab")
    await waitFor("the common prefix", (s) => lastLine(s) === `${prompt(4)}ls /terminal/alp`)
    keys("Tab")
    await waitFor("both candidates", (s) => s.includes("/terminal/alpha") && /\/terminal\/alps\s/.test(s))
    keys("C-u")

    // Ctrl-C on a typed line clears it and keeps the shell.
    type("get /nothing-to-see")
    keys("C-c")
    await waitFor("a cleared line", (s) => lastLine(s) === prompt(4).trimEnd())

    // Up arrow brings back the last command.
    keys("Up")
    await waitFor("the last command again", (s) => lastLine(s) === `${prompt(4)}create /terminal/alps`)
    keys("C-u")

    // A watch fires while the prompt waits: the event prints above a fresh prompt.
    type("get -w /terminal")
    keys("Enter")
    await waitFor("the data", (s) => s.includes("\nhello\n") && lastLine(s) === prompt(5).trimEnd())
    execFileSync(process.execPath, [ezkCli, "shell", "-server", server.connectString, "set", "/terminal", "bye"])
    const after = await waitFor("the watch event", (s) => s.includes("WatchedEvent state:SyncConnected type:NodeDataChanged path:/terminal"))
    assert.include(after, "WATCHER::")
    await waitFor("the prompt again", (s) => lastLine(s) === prompt(5).trimEnd())

    // Ctrl-D leaves; the history file has what was typed.
    keys("C-d")
    const gone = await until(() => {
      try {
        tmux("has-session", "-t", "shell")
        return false
      } catch {
        return true
      }
    })
    assert.isTrue(gone, "the shell did not exit on Ctrl-D")
    const history = readFileSync(path.join(dir, "history"), "utf8").split("\n")
    assert.includeMembers(history, ["create /terminal hello", "getAllChildrenNumber /terminal", "get -w /terminal"])
  }, 120_000)
})
