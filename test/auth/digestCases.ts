/**
 * Hand-written DIGEST-MD5 digest-responses and the verdict the server ZooKeeper uses (the JDK's
 * DIGEST-MD5 server with ZooKeeper's callback handler) gives each. One table, two uses:
 * SaslDigestMd5.test.ts checks our server against the verdicts, and Interop.test.ts checks the
 * verdicts against the JDK server itself, so no rule here rests on memory.
 */
import { type DigestInputs, MAX_RESPONSE_BYTES, quote, responseValue } from "../../src/auth/SaslDigestMd5.js"

/** The user both servers know (JAAS `user_bob="bobpw"`). */
export const USER = "bob"
export const PASSWORD = "bobpw"

/** A digest-response to `nonce`, valid unless `over` changes an input; `extra` is appended raw. */
export const digestResponse = (over: Partial<DigestInputs> = {}, extra = "") => (nonce: string): string => {
  const p: DigestInputs = {
    username: USER,
    realm: "zk-sasl-md5",
    password: PASSWORD,
    nonce,
    cnonce: "c",
    nc: "00000001",
    qop: "auth",
    digestUri: "zookeeper/zk-sasl-md5",
    utf8: true,
    ...over
  }
  return `charset=utf-8,username=${quote(p.username)},realm=${quote(p.realm)},nonce=${quote(nonce)},nc=${p.nc},` +
    `cnonce=${quote(p.cnonce)},digest-uri=${quote(p.digestUri)},response=${responseValue(p)},qop=${p.qop}${extra}`
}

export interface DigestCase {
  readonly name: string
  readonly response: (nonce: string) => string
  readonly accepted: boolean
}

const accept = (name: string, response: (nonce: string) => string): DigestCase => ({ name, response, accepted: true })
const reject = (name: string, response: (nonce: string) => string): DigestCase => ({ name, response, accepted: false })

export const CASES: ReadonlyArray<DigestCase> = [
  accept("a plain valid response", digestResponse()),
  accept("puresasl's shape: no charset, unquoted qop, no maxbuf", (n) => digestResponse({ utf8: false })(n).replace("charset=utf-8,", "")),
  accept("missing qop", (n) => digestResponse()(n).replace(",qop=auth", "")),
  accept("empty cnonce", digestResponse({ cnonce: "" })),
  accept("spaces, empty elements and unknown directives", (n) => ` foo=bar , ${digestResponse()(n).replaceAll(",", " ,, ")} `),
  accept("directive names in any case", (n) => digestResponse()(n).replace("username=", "USERNAME=")),
  accept("digest-uri in another case", digestResponse({ digestUri: "ZooKeeper/ZK-SASL-MD5" })),
  accept("an empty authzid, included in A1", digestResponse({ authzid: "" }, `,authzid=""`)),
  reject("an empty authzid left out of A1", digestResponse({}, `,authzid=""`)),
  reject("no realm", (n) => digestResponse({ realm: "" })(n).replace(`realm="",`, "")),
  reject("other realm", digestResponse({ realm: "x" })),
  reject("realm case", digestResponse({ realm: "ZK-SASL-MD5" })),
  reject("other uri", digestResponse({ digestUri: "zookeeper/other" })),
  reject("other protocol", digestResponse({ digestUri: "foo/zk-sasl-md5" })),
  reject("no uri", (n) => digestResponse()(n).replace(`digest-uri="zookeeper/zk-sasl-md5",`, "")),
  reject("nc 2", digestResponse({ nc: "00000002" })),
  reject("nc short", digestResponse({ nc: "1" })),
  reject("wrong nonce", (n) => digestResponse()(n).replace(`nonce="${n}"`, `nonce="other"`)),
  reject("wrong password", digestResponse({ password: "x" })),
  reject("unknown user", digestResponse({ username: "eve" })),
  reject("empty user", digestResponse({ username: "" })),
  reject("no cnonce", (n) => digestResponse()(n).replace(`cnonce="c",`, "")),
  reject("no response", (n) => digestResponse()(n).replace(/response=[0-9a-f]+,/, "")),
  reject("uppercase response", (n) => digestResponse()(n).replace(/response=([0-9a-f]+)/, (_, h: string) => `response=${h.toUpperCase()}`)),
  reject("qop auth-int", digestResponse({ qop: "auth-int" })),
  reject("qop case", digestResponse({ qop: "AUTH" })),
  reject("charset case", (n) => digestResponse()(n).replace("charset=utf-8", "charset=UTF-8")),
  reject("charset latin1", (n) => digestResponse()(n).replace("charset=utf-8", "charset=iso-8859-1")),
  reject("duplicate username", (n) => `username="bob",${digestResponse()(n)}`),
  reject("garbage", () => `username`),
  reject("too long", (n) => `${digestResponse()(n)},x="${"a".repeat(MAX_RESPONSE_BYTES)}"`)
]

/** The first token a client may send: the Java client sends an empty one; what about others? */
export const FIRST_TOKENS: ReadonlyArray<{ readonly name: string; readonly token: string; readonly challenged: boolean }> = [
  { name: "empty", token: "", challenged: true },
  { name: "non-empty", token: "hello", challenged: true }
]
