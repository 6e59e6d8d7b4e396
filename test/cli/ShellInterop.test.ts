/**
 * `ezk shell` side by side with zkCli.sh 3.8 (Debian package) against the same server, ezk's and
 * Apache ZooKeeper's: the same commands go to both tools and their stdout, stderr and exit codes
 * must match line for line. Only what legitimately differs is normalized: times, zxids, session
 * ids, the node names each tool works under, the order of an unsorted list, zkCli's JVM banner
 * lines, and when a watch event lands between two commands (it comes from another thread in zkCli).
 */
import { assert, it } from "@effect/vitest"
import { ezkCli } from "../support/ezkServer.js"
import { describeTargets } from "../support/targets.js"
import { noZkCli, run, zkCliPath } from "../interop/tools.js"

const JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -Djava.net.preferIPv4Stack=true"

interface Output {
  readonly code: number | null
  readonly stdout: Array<string>
  readonly stderr: Array<string>
  readonly events: Array<string>
}

/** Runs a tool with argv (and stdin), splitting watch events out of stdout. `root` becomes `/R`. */
const runTool = async (
  tool: "zkCli" | "ezk",
  argv: ReadonlyArray<string>,
  root: string,
  input?: string
): Promise<Output> => {
  const r = tool === "zkCli"
    ? await run(zkCliPath, argv, { ...(input !== undefined ? { input } : {}), env: { CLIENT_JVMFLAGS: JVM }, timeoutMs: 60_000 })
    : await run(process.execPath, [ezkCli, "shell", ...argv], { ...(input !== undefined ? { input } : {}), timeoutMs: 60_000 })
  if (r.timedOut) throw new Error(`${tool} timed out:\n${r.stdout}\n${r.stderr}`)
  const lines = (s: string) => s.split("\n").filter((l) => l !== "").map((l) => normalize(l, root))
  const events: Array<string> = []
  const stdout = lines(r.stdout).filter((l) => {
    if (l === "WATCHER::") return false
    if (!l.startsWith("WatchedEvent ")) return true
    events.push(l)
    return false
  })
  const stderr = lines(r.stderr).filter((l) => !l.startsWith("SLF4J:") && !NOT_IN_EZK.test(l))
  return { code: r.code, stdout, stderr, events }
}

/** Usage lines of commands ezk shell leaves out (quotas, reconfig) or adds (help). */
const NOT_IN_EZK = /^\t(delquota|listquota|reconfig|setquota|help) /

const normalize = (line: string, root: string): string =>
  line
    .split(root).join("/R")
    .replace(/^([cmp]Zxid = 0x)[0-9a-f]+$/, "$1*")
    .replace(/^([cm]time = ).*$/, "$1*")
    .replace(/^(ephemeralOwner = 0x)[0-9a-f]{5,}$/, "$1<session>")
    // Java's List.toString of a HashSet (getEphemerals): the order is the server's hashing.
    .replace(/^\[(\/.*)\]$/, (_, items: string) => `[${items.split(", ").sort().join(", ")}]`)

/** Compares two runs; `connected`: ezk must have printed the connect event first. */
const assertSame = (zk: Output, ezk: Output, what: string, connected = true) => {
  const show = `\n--- zkCli ---\n${JSON.stringify(zk, null, 1)}\n--- ezk shell ---\n${JSON.stringify(ezk, null, 1)}`
  assert.deepStrictEqual(ezk.stdout, zk.stdout, `stdout of ${what}${show}`)
  assert.deepStrictEqual(ezk.stderr, zk.stderr, `stderr of ${what}${show}`)
  // Session events (type:None) are racy at exit in zkCli; node events must match in order.
  const nodeEvents = (o: Output) => o.events.filter((e) => !e.includes(" type:None "))
  assert.deepStrictEqual(nodeEvents(ezk), nodeEvents(zk), `watch events of ${what}${show}`)
  if (connected) assert.strictEqual(ezk.events[0], "WatchedEvent state:SyncConnected type:None path:null", `connect event of ${what}${show}`)
  assert.strictEqual(ezk.code, zk.code, `exit code of ${what}${show}`)
}

// Commands typed into one session (stdin). /R is replaced by a root of each tool's own, of the same
// length (a bad path's message gives a character index).
const SCRIPT = `
create /R hello
create /R dup
create -e /R/eph e1
create -s /R/seq- s1
create -e -s /R/es- es
ls /R
ls -s /R
get /R
set /R world
set -v 0 /R again
set -s -v 1 /R again
stat /R/eph
stat /R/nope
delete /R
delete -v 7 /R/seq-0000000001
get -w /R
stat -w /R
set /R changed
ls -w /R
create /R/child c
create /R/child/x
create /R/eph/x
stat -w /R/later
create /R/later
sync /R
get /R/child
create /R/bad/child x
create -t 5000 /R/ttl x
create -c /R/cont
getEphemerals /R
getAllChildrenNumber /R
ls -R /R
addWatch -m PERSISTENT_RECURSIVE /R/child
create /R/child/a x
set /R/child/a y
delete /R/child/a
removewatches /R/child
set /R/child after
create /R/acl a digest:bob:0ezhUayTjEymfNB3K9C0+wkMLMo=:cdrwa
get /R/acl
getAcl /R/acl
create /R/bad x world:anyone
create /R/bad2 x world:anyone:rq
addauth digest bob:bobpw
whoami
get /R/acl
setAcl -v 3 /R/acl world:anyone:r
setAcl -s /R/acl world:anyone:r,digest:bob:0ezhUayTjEymfNB3K9C0+wkMLMo=:cdrwa
getAcl -s /R/acl
printwatches
printwatches off
get -w /R
set /R x
history
redo 1
redo 99
get "/R"
printwatches on
create /R/sp "a b c"
get /R/sp
ls /R x
deleteall /R/child
ls /R
get R
get /R/
get /R/./x
removewatches /R/nope
config -s
config -c
ls -R /R/nope
nosuchcommand
get -x /R
set /R
`

// One command per run, as scripts call zkCli.sh; /R/one exists (data "one") when they run.
const SINGLE: ReadonlyArray<ReadonlyArray<string>> = [
  ["get", "/R/one"],
  ["get", "-s", "/R/one"],
  ["get", "/R/none"],
  ["ls", "/R"],
  ["stat", "/R/one"],
  ["create", "/R/one"],
  ["set", "/R/one", "two words"],
  ["delete", "/R/none"],
  ["frob"],
  ["ls"],
  ["get", "R"]
]

describeTargets("ezk shell vs zkCli.sh", (t) => {
  it.skipIf(noZkCli())("a typed session on stdin prints the same, command by command", async () => {
    const cs = t.server().connectString
    const zk = await runTool("zkCli", ["-server", cs], "/zkcli", SCRIPT.replaceAll("/R", "/zkcli"))
    const ezk = await runTool("ezk", ["-server", cs], "/ezksh", SCRIPT.replaceAll("/R", "/ezksh"))
    // zkCli without JLine says so; ezk does not pretend.
    zk.stdout.splice(zk.stdout.indexOf("JLine support is disabled"), 1)
    assertSame(zk, ezk, "the script")
    assert.isAbove(ezk.stdout.length + ezk.stderr.length, 150)
  }, 180_000)

  it.skipIf(noZkCli())("one command after the options: same output and exit code", async () => {
    const cs = t.server().connectString
    for (const [tool, root] of [["zkCli", "/zkone"], ["ezk", "/ezone"]] as const) {
      await runTool(tool, ["-server", cs], root, `create ${root}\ncreate ${root}/one one\n`)
    }
    for (const command of SINGLE) {
      const zk = await runTool("zkCli", ["-server", cs, ...command.map((w) => w.replaceAll("/R", "/zkone"))], "/zkone")
      const ezk = await runTool("ezk", ["-server", cs, ...command.map((w) => w.replaceAll("/R", "/ezone"))], "/ezone")
      // A command that fails before it needs the server may end before the session is up.
      assertSame(zk, ezk, `\`${command.join(" ")}\``, false)
    }
  }, 300_000)

  it("a reader that goes away early (| head -1) ends nothing but the output", async () => {
    const cs = t.server().connectString
    const r = await run("bash", ["-c", `"$0" "$1" shell -server "$2" ls -R / | head -1; echo "exit \${PIPESTATUS[0]}"`, process.execPath, ezkCli, cs])
    assert.strictEqual(r.stdout, `Connecting to ${cs}\nexit 0\n`, r.stderr)
    assert.notInclude(r.stderr, "EPIPE")
  })
})
