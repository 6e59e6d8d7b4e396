import { createRequire } from "node:module"

/** The package version (read from package.json, which sits one level above both src/ and dist/). */
export const EZK_VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version
