/**
 * IP ACL expressions and the verdicts of ZooKeeper's IPAuthenticationProvider (3.8). One table, two
 * uses: Acl.test.ts checks our rules against it, Interop.test.ts checks it against the class in the
 * installed zookeeper.jar, so no rule here rests on memory.
 */
import { FastCheck } from "effect"

export const VALID: ReadonlyArray<string> = ["127.0.0.1", "127.0.0.1/8", "127.0.0.1/+8", "01.02.03.004", "+1.2.3.4", "1.2.3.4/08", "-0.2.3.4", "0.0.0.0/0", "1.2.3.4/32"]

export const INVALID: ReadonlyArray<string> = [
  "127.0.0.1/33", "127.0.0.1/-1", "1.2.3", "1.2.3.4.5", "1.2.3.256", "1.2.3.4/", "1.2.3.4/8/9", "::1", "fe80::1", "a.b.c.d",
  "1.2.3.4 ", " 1.2.3.4", "1..3.4", "0x1.2.3.4", "1.2.3.4/ 8", "", "1.2.3.4.", "-1.2.3.4"
]

/** [remote address id, ACL expression, matches]. */
export const MATCHES: ReadonlyArray<readonly [string, string, boolean]> = [
  ["127.0.0.1", "127.0.0.1", true],
  ["127.0.0.2", "127.0.0.1", false],
  ["127.0.0.2", "127.0.0.1/8", true],
  ["10.1.2.3", "127.0.0.1/8", false],
  ["10.1.2.3", "0.0.0.0/0", true],
  ["10.1.2.3", "10.1.2.0/24", true],
  ["10.1.3.3", "10.1.2.0/23", true],
  ["10.1.4.3", "10.1.2.0/23", false],
  ["255.255.255.255", "255.255.255.254/31", true],
  ["::1", "127.0.0.1", false],
  ["::1", "::1", false],
  ["127.0.0.1", "127.0.0.1/33", false],
  ["127.0.0.1", "127.0.0.1/x", false]
]

/** Expressions near the edges of the grammar: signs, spaces, slashes, out-of-range parts. */
export const expressions: FastCheck.Arbitrary<string> = FastCheck.oneof(
  FastCheck.array(FastCheck.constantFrom(..."0123456789.+-/ 2551"), { maxLength: 16 }).map((cs) => cs.join("")),
  FastCheck.tuple(
    FastCheck.array(FastCheck.integer({ min: 0, max: 300 }), { minLength: 4, maxLength: 4 }),
    FastCheck.option(FastCheck.integer({ min: -1, max: 40 }))
  ).map(([xs, bits]) => xs.join(".") + (bits === null ? "" : `/${bits}`))
)

/** A fixed sample of `expressions` (the same on every run), for the comparison with the jar. */
export const sampledExpressions = (n: number): Array<string> => FastCheck.sample(expressions, { seed: 7, numRuns: n })
