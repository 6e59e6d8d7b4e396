/**
 * Virtual time for a whole simulated run, without TestClock's per-wakeup cost (TestClock polls
 * every fiber and waits a real timer tick before each wakeup; a run has thousands of them).
 * A Clock whose sleeps are timers in a list, and a Scheduler that runs fibers from one FIFO
 * queue: when no fiber can run, the driver moves time to the next timer and fires it. Same
 * inputs, same order of everything: a seed replays exactly.
 */
import { Clock, Duration, Effect, Fiber, Option, type Scheduler } from "effect"

interface Timer {
  readonly due: number
  readonly seq: number
  readonly fire: () => void
}

export interface SimTime {
  readonly clock: Clock.Clock
  readonly scheduler: Scheduler.Scheduler
  /** Runs `effect` on virtual time until it completes; fails if every fiber sleeps forever. */
  readonly drive: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** Runs `effect` on a fresh virtual clock starting at `startMs`. */
export const run = <A, E, R>(effect: Effect.Effect<A, E, R>, startMs = 0): Effect.Effect<A, E, R> => make(startMs).drive(effect)

const microtask = Effect.async<void>((resume) => queueMicrotask(() => resume(Effect.void)))

export const make = (startMs = 0): SimTime => {
  let now = startMs
  let seq = 0
  let timers: Array<Timer> = []
  const tasks: Array<() => void> = []
  let head = 0
  let draining = false
  /** Tasks ever scheduled: tells the driver whether anything happened while it waited. */
  let scheduled = 0

  const drain = () => {
    // Tasks may schedule more tasks; they all run here, in order.
    while (head < tasks.length) tasks[head++]!()
    tasks.length = 0
    head = 0
    draining = false
  }
  const scheduler: Scheduler.Scheduler = {
    shouldYield: (fiber) => (fiber.currentOpCount > 2048 ? 0 : false),
    scheduleTask: (task) => {
      scheduled++
      tasks.push(task)
      if (!draining) {
        draining = true
        queueMicrotask(drain)
      }
    }
  }
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(Math.round(now * 1_000_000)),
    currentTimeNanos: Effect.sync(() => BigInt(Math.round(now * 1_000_000))),
    sleep: (duration) =>
      Effect.async<void>((resume) => {
        const timer: Timer = { due: now + Math.max(0, Duration.toMillis(duration)), seq: seq++, fire: () => resume(Effect.void) }
        insert(timer)
        return Effect.sync(() => {
          timers = timers.filter((t) => t !== timer)
        })
      })
  }
  const insert = (t: Timer) => {
    let i = timers.length
    while (i > 0 && (timers[i - 1]!.due > t.due || (timers[i - 1]!.due === t.due && timers[i - 1]!.seq > t.seq))) i--
    timers.splice(i, 0, t)
  }
  /** Fires the earliest timer (all fibers are idle); false when there is none. */
  const advance = (): boolean => {
    const next = timers.shift()
    if (next === undefined) return false
    if (next.due > now) now = next.due
    next.fire()
    return true
  }
  const drive = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(effect)
      while (Option.isNone(yield* Fiber.poll(fiber))) {
        yield* Effect.yieldNow()
        if (head < tasks.length) continue
        // Let microtasks queued outside any fiber run (socket flushes); they may wake fibers.
        const before = scheduled
        yield* microtask
        if (scheduled - before > 1 || head < tasks.length) continue
        // Nothing can run: everything waits for time to pass.
        if (!advance()) return yield* Effect.dieMessage(`simulation deadlock at ${now} ms: no fiber can run and no timer is set`)
      }
      return yield* Fiber.join(fiber)
    }).pipe(Effect.withClock(clock), Effect.withScheduler(scheduler))
  return { clock, scheduler, drive }
}
