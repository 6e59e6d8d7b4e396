/**
 * The shell's command table: zkCli.sh 3.8's server commands (NodeCommands.ts, AdminCommands.ts),
 * the loop's own commands (Shell.ts runs them) and zkCli's usage listing.
 */
import { addAuth, addWatch, close, config, getAcl, removeWatches, setAcl, version, whoAmI } from "./AdminCommands.js"
import type { Command } from "./Command.js"
import { create, deleteAll, get, getAllChildrenNumber, getEphemerals, ls, remove, set, stat, sync } from "./NodeCommands.js"

/** Every server command by name. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [
    ls, get, set, create, remove, deleteAll, stat, getAcl, setAcl, addAuth, whoAmI, sync, addWatch, removeWatches,
    getEphemerals, getAllChildrenNumber, config, close, version
  ].map((c) => [c.name, c])
)

/** The shell's own commands (ZooKeeperMain handles them) with their usage text. */
export const BUILTINS: ReadonlyMap<string, string> = new Map([
  ["connect", "host:port"],
  ["history", ""],
  ["redo", "cmdno"],
  ["printwatches", "on|off"],
  ["quit", ""],
  ["help", ""]
])

/** ZooKeeperMain.usage(): the usage line, then every command sorted, tab-indented. */
export const usageLines = (): Array<string> => [
  "ZooKeeper -server host:port -client-configuration properties-file cmd args",
  ...[...BUILTINS.entries(), ...[...COMMANDS.values()].map((c): [string, string] => [c.name, c.usage])]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, usage]) => `\t${name} ${usage}`)
]

/** Names for tab completion. */
export const commandNames = (): Array<string> => [...BUILTINS.keys(), ...COMMANDS.keys()].sort()
