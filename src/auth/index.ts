/** Authentication and authorisation: ACL rules, AuthPacket providers, SASL DIGEST-MD5, JAAS files. */
export * as Acl from "./Acl.js"
export * as Digest from "./Digest.js"
export * as Jaas from "./Jaas.js"
export * as SaslDigestMd5 from "./SaslDigestMd5.js"
export * as SaslDigestMd5Client from "./SaslDigestMd5Client.js"
