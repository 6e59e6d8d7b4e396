/** Path rules of ZooKeeper's PathUtils (client.md §13) and small helpers on "/a/b" paths. */

/** Characters ZooKeeper refuses anywhere in a path. */
const isBadChar = (c: number): boolean =>
  c === 0 ||
  (c > 0x00 && c < 0x20) ||
  (c > 0x7e && c < 0xa0) ||
  (c > 0xd7ff && c < 0xf900) ||
  (c > 0xffef && c < 0x10000)

/** Why a path is invalid, or null when it is a valid absolute znode path. */
export const pathError = (path: string): string | null => {
  const n = path.length
  if (n === 0) return "Path length must be > 0"
  if (path.charCodeAt(0) !== 47) return "Path must start with / character"
  if (n === 1) return null
  if (path.charCodeAt(n - 1) === 47) return "Path must not end with / character"
  let prev = 47
  for (let i = 1; i < n; i++) {
    const c = path.charCodeAt(i)
    if (isBadChar(c)) return `invalid character @${i}`
    if (c === 47 && prev === 47) return `empty node name specified @${i}`
    if (c === 46 && prev === 46) {
      // ".." component: previous-previous is '/' and next is '/' or end.
      if (path.charCodeAt(i - 2) === 47 && (i + 1 === n || path.charCodeAt(i + 1) === 47)) return `relative paths not allowed @${i}`
    } else if (c === 46 && prev === 47) {
      if (i + 1 === n || path.charCodeAt(i + 1) === 47) return `relative paths not allowed @${i}`
    }
    prev = c
  }
  return null
}

/** Parent of "/a/b" is "/a"; of "/a" is "/". The root has no parent (""). */
export const parentOf = (path: string): string => {
  const i = path.lastIndexOf("/")
  if (i <= 0) return path.length > 1 ? "/" : ""
  return path.slice(0, i)
}

/** Last component of a path ("/a/b" → "b"). */
export const nameOf = (path: string): string => path.slice(path.lastIndexOf("/") + 1)

/** Joins a parent path and a child name. */
export const childPath = (parent: string, name: string): string => (parent === "/" ? "/" + name : parent + "/" + name)

/** The system nodes that can never be deleted (client.md §12, BadArguments). */
export const isProtectedPath = (path: string): boolean =>
  path === "/" || path === "/zookeeper" || path === "/zookeeper/quota" || path === "/zookeeper/config"

/** ZooKeeper's "%010d" formatting of a sequence number (negative values keep the sign). */
export const sequenceSuffix = (n: number): string => {
  if (n < 0) return "-" + String(-n).padStart(9, "0")
  return String(n).padStart(10, "0")
}
