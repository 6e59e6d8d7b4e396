import { Data } from "effect"

/** Why the server could not start; `message` is the one line the CLI prints before exiting non-zero. */
export class ServerError extends Data.TaggedError("ServerError")<{
  readonly reason: "PortInUse" | "Listen" | "DataDir" | "BadConfig"
  readonly message: string
}> {}
