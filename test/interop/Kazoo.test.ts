/**
 * kazoo (Python, Debian's python3-kazoo) drives each target: the script below runs a scripted
 * session and prints one JSON object with what every call returned (or the exception class it
 * raised); the assertions are here. Covers paths, ephemeral/sequential nodes, get/set with versions,
 * children, transactions that commit and that fail, DataWatch/ChildrenWatch, digest ACLs, a second
 * session seeing the first one's ephemerals vanish on close, a session taken over and closed by
 * another client (the victim sees it expire), and kazoo's Lock and Counter recipes.
 */
import { assert, it } from "@effect/vitest"
import { describeTargets } from "../support/targets.js"
import { noKazoo, runPython } from "./tools.js"

const SCRIPT = String.raw`
import json, sys, threading, time
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl, make_acl, OPEN_ACL_UNSAFE
from kazoo.exceptions import KazooException, LockTimeout
from kazoo.recipe.lock import Lock
from kazoo.recipe.counter import Counter

hosts, root = sys.argv[1], sys.argv[2]
out = {}

def attempt(fn):
    try:
        return {"ok": fn()}
    except KazooException as e:
        return {"error": type(e).__name__}

def stat_dict(s):
    return {k: getattr(s, k) for k in ("czxid", "mzxid", "pzxid", "version", "cversion", "aversion",
                                       "ephemeralOwner", "dataLength", "numChildren")}

def wait_for(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False

zk = KazooClient(hosts=hosts, timeout=10)
zk.start(timeout=15)
out["connected"] = zk.connected
session_id = zk.client_id[0]

# Paths, data and versions.
zk.ensure_path(root + "/a/b")
out["ensure_path_exists"] = zk.exists(root + "/a/b") is not None
out["create"] = zk.create(root + "/data", b"v1")
data, st = zk.get(root + "/data")
out["get1"] = [data.decode(), stat_dict(st)]
out["set1"] = stat_dict(zk.set(root + "/data", b"v2"))
out["set_bad_version"] = attempt(lambda: zk.set(root + "/data", b"x", version=0) and "set")
out["set_good_version"] = attempt(lambda: zk.set(root + "/data", b"v3", version=1).version)
out["create_exists"] = attempt(lambda: zk.create(root + "/data", b"dup"))
out["create_no_parent"] = attempt(lambda: zk.create(root + "/missing/child", b""))
out["create_makepath"] = attempt(lambda: zk.create(root + "/deep/er/node", b"d", makepath=True))
out["get_missing"] = attempt(lambda: zk.get(root + "/nope") and "got")
out["exists_missing"] = zk.exists(root + "/nope") is None
out["delete_not_empty"] = attempt(lambda: zk.delete(root + "/a") or "deleted")
out["delete_bad_version"] = attempt(lambda: zk.delete(root + "/data", version=99) or "deleted")
path, st = zk.create(root + "/with-stat", b"abc", include_data=True)
out["create2"] = [path, st.dataLength, st.version, st.czxid == st.mzxid]
out["empty_data"] = zk.get(root + "/a")[0].decode()

# Ephemeral and sequential nodes.
out["seq"] = [zk.create(root + "/q/item-", b"", sequence=True, makepath=True) for _ in range(3)]
eph = zk.create(root + "/eph", b"e", ephemeral=True)
out["eph_owner_is_session"] = zk.exists(eph).ephemeralOwner == session_id
out["eph_seq"] = zk.create(root + "/q/e-", b"", ephemeral=True, sequence=True)
out["eph_child"] = attempt(lambda: zk.create(eph + "/child", b""))
out["children_q"] = sorted(zk.get_children(root + "/q"))
kids, st = zk.get_children(root + "/q", include_data=True)
out["children_q_stat"] = [len(kids), st.numChildren, st.cversion]

# Transactions.
t = zk.transaction()
t.create(root + "/tx1", b"1")
t.set_data(root + "/data", b"v4", version=2)
t.check(root + "/a", 0)
t.delete(root + "/with-stat")
out["tx_commit"] = [r if isinstance(r, (str, bool)) else type(r).__name__ for r in t.commit()]
out["tx_after"] = [zk.exists(root + "/tx1") is not None, zk.get(root + "/data")[0].decode(),
                   zk.exists(root + "/with-stat") is None]
t = zk.transaction()
t.create(root + "/tx2", b"2")
t.check(root + "/data", 0)  # wrong version: the whole transaction fails
t.set_data(root + "/data", b"never")
out["tx_fail"] = [r if isinstance(r, (str, bool)) else type(r).__name__ for r in t.commit()]
out["tx_fail_after"] = [zk.exists(root + "/tx2") is None, zk.get(root + "/data")[0].decode()]

# Watches.
zk.create(root + "/w", b"w0")
data_events = []
child_events = []
zk.DataWatch(root + "/w", lambda d, s: data_events.append(None if d is None else d.decode()))
zk.ChildrenWatch(root + "/w", lambda c: child_events.append(sorted(c)))
wait_for(lambda: len(data_events) >= 1 and len(child_events) >= 1)
zk.set(root + "/w", b"w1")
wait_for(lambda: len(data_events) >= 2)
zk.create(root + "/w/c1", b"")
wait_for(lambda: len(child_events) >= 2)
zk.create(root + "/w/c2", b"")
wait_for(lambda: len(child_events) >= 3)
zk.delete(root + "/w/c1")
wait_for(lambda: len(child_events) >= 4)
zk.set(root + "/w", b"w2")
wait_for(lambda: len(data_events) >= 3)
out["data_events"] = list(data_events)
out["child_events"] = list(child_events)
fired = threading.Event()
one_shot = []
zk.exists(root + "/later", watch=lambda e: (one_shot.append([e.type, e.path]), fired.set()))
zk.create(root + "/later", b"")
fired.wait(10)
out["exists_watch"] = one_shot

# Digest ACLs.
acl = make_digest_acl("bob", "bobpw", all=True)
zk.create(root + "/secret", b"s", acl=[acl])
out["noauth_get"] = attempt(lambda: zk.get(root + "/secret")[0].decode())
bob = KazooClient(hosts=hosts, timeout=10, auth_data=[("digest", "bob:bobpw")])
bob.start(timeout=15)
# On an ensemble each session may be on another peer, and ZooKeeper orders only a session's own
# operations: sync first so the peer has what another session wrote.
bob.sync(root)
out["bob_get"] = attempt(lambda: bob.get(root + "/secret")[0].decode())
acls, st = bob.get_acls(root + "/secret")
out["acls"] = [[a.perms, a.id.scheme, a.id.id] for a in acls] + [st.aversion]
out["bob_set_acls"] = attempt(lambda: bob.set_acls(root + "/secret", [make_acl("world", "anyone", read=True)]).aversion)
zk.sync(root)
out["world_read"] = attempt(lambda: zk.get(root + "/secret")[0].decode())
out["world_write"] = attempt(lambda: zk.set(root + "/secret", b"no") and "set")
zk.create(root + "/secret2", b"s2", acl=[acl])
zk.add_auth("digest", "bob:bobpw")
out["after_add_auth"] = attempt(lambda: zk.get(root + "/secret2")[0].decode())

# Another session watches our ephemeral; closing our session deletes it.
gone = threading.Event()
bob.exists(eph, watch=lambda e: gone.set() if e.type == "DELETED" else None)
lock = Lock(zk, root + "/lock")
out["lock_acquired"] = lock.acquire(timeout=5)
other = Lock(bob, root + "/lock")
try:
    out["lock_contended"] = other.acquire(timeout=0.5)
except LockTimeout:
    out["lock_contended"] = False
lock.release()
out["lock_after_release"] = other.acquire(timeout=5)
other.release()
counter = Counter(bob, root + "/counter")
for _ in range(5):
    counter += 1
counter -= 2
out["counter"] = counter.value
# Session takeover and expiry: another client attaches to the victim's session with its id and
# password, then closes it. The victim's connection is dropped when the session moves, and its
# reconnect finds the session gone: kazoo reports LOST, and the ephemeral is deleted.
victim = KazooClient(hosts=hosts, timeout=10)
victim_states = []
victim.add_listener(lambda s: victim_states.append(str(s)))
victim.start(timeout=15)
victim.create(root + "/victim-eph", b"", ephemeral=True)
victim_id = victim.client_id
thief = KazooClient(hosts=hosts, timeout=10, client_id=victim_id)
thief.start(timeout=15)
out["thief_same_session"] = thief.client_id[0] == victim_id[0]
thief.stop()
thief.close()
out["victim_lost"] = wait_for(lambda: "LOST" in victim_states, 20)
out["victim_states"] = victim_states
zk.sync(root)
out["victim_eph_gone"] = zk.exists(root + "/victim-eph") is None
victim.stop()
victim.close()

out["sync"] = zk.sync(root)
out["ruok"] = zk.command(b"ruok")
zk.stop()
zk.close()
out["eph_deleted_event"] = gone.wait(10)
out["eph_gone"] = bob.exists(eph) is None
out["persistent_kept"] = bob.get(root + "/data")[0].decode()
bob.delete(root, recursive=True)
out["root_deleted"] = bob.exists(root) is None
bob.stop()
bob.close()
print(json.dumps(out))
`

describeTargets("kazoo (Python)", (t) => {
  it.skipIf(noKazoo())("scripted session", async () => {
    const root = "/kz"
    const out = (await runPython(SCRIPT, [t.server().connectString, root])) as Record<string, any>
    const msg = JSON.stringify(out, null, 1)
    assert.strictEqual(out.connected, true)
    assert.strictEqual(out.ensure_path_exists, true)
    assert.strictEqual(out.create, "/kz/data")
    assert.strictEqual(out.get1[0], "v1")
    assert.strictEqual(out.get1[1].version, 0)
    assert.strictEqual(out.get1[1].dataLength, 2)
    assert.strictEqual(out.get1[1].ephemeralOwner, 0)
    assert.strictEqual(out.set1.version, 1)
    assert.isTrue(out.set1.mzxid > out.get1[1].mzxid)
    assert.deepStrictEqual(out.set_bad_version, { error: "BadVersionError" }, msg)
    assert.deepStrictEqual(out.set_good_version, { ok: 2 }, msg)
    assert.deepStrictEqual(out.create_exists, { error: "NodeExistsError" }, msg)
    assert.deepStrictEqual(out.create_no_parent, { error: "NoNodeError" }, msg)
    assert.deepStrictEqual(out.create_makepath, { ok: "/kz/deep/er/node" }, msg)
    assert.deepStrictEqual(out.get_missing, { error: "NoNodeError" }, msg)
    assert.strictEqual(out.exists_missing, true)
    assert.deepStrictEqual(out.delete_not_empty, { error: "NotEmptyError" }, msg)
    assert.deepStrictEqual(out.delete_bad_version, { error: "BadVersionError" }, msg)
    assert.deepStrictEqual(out.create2, ["/kz/with-stat", 3, 0, true], msg)
    assert.strictEqual(out.empty_data, "")

    // /kz/q is created by makepath with the first item, so the counter starts at 0.
    assert.deepStrictEqual(out.seq, ["/kz/q/item-0000000000", "/kz/q/item-0000000001", "/kz/q/item-0000000002"], msg)
    assert.strictEqual(out.eph_owner_is_session, true)
    assert.strictEqual(out.eph_seq, "/kz/q/e-0000000003")
    assert.deepStrictEqual(out.eph_child, { error: "NoChildrenForEphemeralsError" }, msg)
    assert.deepStrictEqual(out.children_q, ["e-0000000003", "item-0000000000", "item-0000000001", "item-0000000002"])
    assert.deepStrictEqual(out.children_q_stat, [4, 4, 4], msg)

    // A committed transaction returns each op's result: create → path, set → Stat, check/delete → True.
    assert.deepStrictEqual(out.tx_commit, ["/kz/tx1", "ZnodeStat", true, true], msg)
    assert.deepStrictEqual(out.tx_after, [true, "v4", true], msg)
    // A failed one: the failing op's error, the ops before it rolled back, the ops after it not run.
    assert.deepStrictEqual(out.tx_fail, ["RolledBackError", "BadVersionError", "RuntimeInconsistency"], msg)
    assert.deepStrictEqual(out.tx_fail_after, [true, "v4"], msg)

    assert.deepStrictEqual(out.data_events, ["w0", "w1", "w2"], msg)
    assert.deepStrictEqual(out.child_events, [[], ["c1"], ["c1", "c2"], ["c2"]], msg)
    assert.deepStrictEqual(out.exists_watch, [["CREATED", "/kz/later"]], msg)

    assert.deepStrictEqual(out.noauth_get, { error: "NoAuthError" }, msg)
    assert.deepStrictEqual(out.bob_get, { ok: "s" }, msg)
    // perms 31 = ALL; the id is user:base64(sha1(user:password)).
    assert.deepStrictEqual(out.acls, [[31, "digest", "bob:0ezhUayTjEymfNB3K9C0+wkMLMo="], 0], msg)
    assert.deepStrictEqual(out.bob_set_acls, { ok: 1 }, msg)
    assert.deepStrictEqual(out.world_read, { ok: "s" }, msg)
    assert.deepStrictEqual(out.world_write, { error: "NoAuthError" }, msg)
    assert.deepStrictEqual(out.after_add_auth, { ok: "s2" }, msg)

    assert.strictEqual(out.lock_acquired, true)
    assert.strictEqual(out.lock_contended, false)
    assert.strictEqual(out.lock_after_release, true)
    assert.strictEqual(out.counter, 3)
    assert.strictEqual(out.thief_same_session, true, msg)
    assert.strictEqual(out.victim_lost, true, msg)
    // Dropped when its session moves; on an ensemble the victim may first reconnect to a third peer
    // (the session still lives until the thief closes it) and be dropped again: LOST comes last either way.
    assert.deepStrictEqual(out.victim_states.slice(0, 2), ["CONNECTED", "SUSPENDED"], msg)
    assert.include(out.victim_states, "LOST", msg)
    assert.strictEqual(out.victim_eph_gone, true, msg)
    assert.strictEqual(out.sync, "/kz")
    assert.strictEqual(out.ruok, "imok")
    assert.strictEqual(out.eph_deleted_event, true, msg)
    assert.strictEqual(out.eph_gone, true)
    assert.strictEqual(out.persistent_kept, "v4")
    assert.strictEqual(out.root_deleted, true)
  })
}, { ensembles: true })
