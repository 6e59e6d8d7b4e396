import { Data } from "effect"

/** A frame or record that cannot be decoded; the connection that sent it is closed. */
export class WireError extends Data.TaggedError("WireError")<{
  readonly reason: "Truncated" | "BadLength" | "LongOutOfRange" | "TrailingBytes" | "FrameTooLarge" | "BadRecord"
  readonly detail: string
}> {
  override get message(): string {
    return `${this.reason}: ${this.detail}`
  }
}
