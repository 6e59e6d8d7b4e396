/** Opcodes of the client protocol and txn types (client.md §5, storage.md §2.3). */
export const Op = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1
} as const

export type OpName = keyof typeof Op

const opNames = new Map<number, OpName>(Object.entries(Op).map(([k, v]) => [v, k as OpName]))

/** Name of an opcode for logs and `cons` (`lop=`), or "unknown". */
export const opName = (op: number): string => opNames.get(op) ?? "unknown"

/** KeeperException.Code values (client.md §12). */
export const Err = {
  Ok: 0,
  SystemError: -1,
  RuntimeInconsistency: -2,
  DataInconsistency: -3,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  UnknownSession: -12,
  NewConfigNoQuorum: -13,
  ReconfigInProgress: -14,
  APIError: -100,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidCallback: -113,
  InvalidACL: -114,
  AuthFailed: -115,
  SessionMoved: -118,
  NotReadOnly: -119,
  EphemeralOnLocalSession: -120,
  NoWatcher: -121,
  RequestTimeout: -122,
  ReconfigDisabled: -123,
  SessionClosedRequireSaslAuth: -124,
  QuotaExceeded: -125,
  Throttled: -127
} as const

export type ErrName = keyof typeof Err

const errNames = new Map<number, ErrName>(Object.entries(Err).map(([k, v]) => [v, k as ErrName]))

/** Name of an error code, e.g. -101 → "NoNode". */
export const errName = (code: number): ErrName | "Unknown" => errNames.get(code) ?? "Unknown"

/** Permission bits of an ACL entry (client.md §11.1). */
export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const

/** Create flags / CreateMode (client.md §10). */
export const CreateMode = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6
} as const

/** WatchedEvent types sent in notifications (client.md §8.2). */
export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7
} as const

/** Keeper states carried in notifications; the server only ever sends SyncConnected. */
export const KeeperState = {
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Expired: -112,
  Closed: 7
} as const

/** WatcherType for checkWatches / removeWatches (client.md §8.5). */
export const WatcherType = { Children: 1, Data: 2, Any: 3 } as const

/** addWatch modes (client.md §6.2). */
export const AddWatchMode = { PERSISTENT: 0, PERSISTENT_RECURSIVE: 1 } as const

/** Special xids (client.md §4.1). */
export const Xid = { notification: -1, ping: -2, auth: -4, setWatches: -8 } as const
