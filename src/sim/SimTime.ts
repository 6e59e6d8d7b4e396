/**
 * Virtual time for a whole simulated run, without TestClock's per-wakeup cost (TestClock polls
 * every fiber and waits a real timer tick before each wakeup; a run has thousands of them).
 * A Clock whose sleeps are timers in a heap, and a Scheduler that runs fibers from one FIFO
 * queue: when the queue is empty (and the microtasks queued meanwhile ran), time moves to the next
 * timer and fires it. No driver fiber: the idle check is a plain callback. Same inputs, same order
 * of everything: a seed replays exactly.
 */
import { Clock, Duration, Effect, type Exit, Fiber, type Scheduler } from "effect"
import { DirectTimer } from "../net/Memory.js"

interface Timer {
  readonly due: number
  readonly seq: number
  readonly fire: () => void
  cancelled: boolean
}

export interface SimTime {
  readonly clock: Clock.Clock
  readonly scheduler: Scheduler.Scheduler
  /** Runs `f` as a plain task (no fiber) after `delayMs` of virtual time; a throw fails the run. */
  readonly after: (delayMs: number, f: () => void) => void
  /** Runs `effect` on virtual time until it completes; dies if every fiber sleeps forever. */
  readonly drive: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** Runs `effect` on a fresh virtual clock starting at `startMs`. */
export const run = <A, E, R>(effect: Effect.Effect<A, E, R>, startMs = 0): Effect.Effect<A, E, R> => make(startMs).drive(effect)

const earlier = (a: Timer, b: Timer): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq)

/** A binary min-heap of timers by (due, seq); cancelled ones are skipped when they surface. */
class TimerHeap {
  private readonly items: Array<Timer> = []
  push(t: Timer): void {
    const a = this.items
    let i = a.push(t) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!earlier(a[i]!, a[parent]!)) break
      ;[a[i], a[parent]] = [a[parent]!, a[i]!]
      i = parent
    }
  }
  pop(): Timer | undefined {
    const a = this.items
    for (;;) {
      const top = a[0]
      if (top === undefined) return undefined
      const last = a.pop()!
      if (a.length > 0) {
        a[0] = last
        let i = 0
        for (;;) {
          const l = 2 * i + 1
          const r = l + 1
          let m = i
          if (l < a.length && earlier(a[l]!, a[m]!)) m = l
          if (r < a.length && earlier(a[r]!, a[m]!)) m = r
          if (m === i) break
          ;[a[i], a[m]] = [a[m]!, a[i]!]
          i = m
        }
      }
      if (!top.cancelled) return top
    }
  }
}

export const make = (startMs = 0): SimTime => {
  let now = startMs
  let seq = 0
  const timers = new TimerHeap()
  const tasks: Array<() => void> = []
  let head = 0
  let draining = false
  /** Set while a drive is in progress: called when nothing can run and no timer is left. */
  let onDeadlock: ((message: string) => void) | null = null
  /** What a plain task threw: the run dies with it. */
  let onDefect: ((error: unknown) => void) | null = null

  const drain = () => {
    // Tasks may schedule more tasks; they all run here, in order.
    while (head < tasks.length) tasks[head++]!()
    tasks.length = 0
    head = 0
    draining = false
    // Microtasks queued outside any fiber (socket flushes) run before the idle check; they may wake fibers.
    queueMicrotask(idle)
  }
  /** Nothing can run: time moves to the earliest timer. */
  const idle = () => {
    if (draining || onDeadlock === null) return
    const next = timers.pop()
    if (next === undefined) return onDeadlock(`simulation deadlock at ${now} ms: no fiber can run and no timer is set`)
    if (next.due > now) now = next.due
    next.fire()
    if (!draining) queueMicrotask(idle)
  }
  const scheduler: Scheduler.Scheduler = {
    shouldYield: (fiber) => (fiber.currentOpCount > 2048 ? 0 : false),
    scheduleTask: (task) => {
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
        const timer: Timer = { due: now + Math.max(0, Duration.toMillis(duration)), seq: seq++, fire: () => resume(Effect.void), cancelled: false }
        timers.push(timer)
        return Effect.sync(() => void (timer.cancelled = true))
      })
  }
  const after = (delayMs: number, f: () => void): void => {
    const task = () => {
      try {
        f()
      } catch (error) {
        onDefect?.(error)
      }
    }
    if (delayMs <= 0) scheduler.scheduleTask(task, 0)
    else timers.push({ due: now + delayMs, seq: seq++, fire: () => scheduler.scheduleTask(task, 0), cancelled: false })
  }
  const drive = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(effect.pipe(Effect.withClock(clock), Effect.withScheduler(scheduler), Effect.provideService(DirectTimer, { after })))
      const stuck = yield* Effect.async<Exit.Exit<A, E> | string>((resume) => {
        // The first outcome ends the drive; time stops moving (leftover fibers just stay asleep).
        const end = (outcome: Exit.Exit<A, E> | string) => {
          if (onDeadlock === null) return
          onDeadlock = null
          onDefect = null
          resume(Effect.succeed(outcome))
        }
        onDeadlock = end
        onDefect = (error) => end(`a callback on virtual time threw: ${String(error)}`)
        fiber.addObserver(end)
        queueMicrotask(idle)
      })
      if (typeof stuck === "string") {
        yield* Fiber.interruptFork(fiber)
        return yield* Effect.dieMessage(stuck)
      }
      return yield* stuck
    })
  return { clock, scheduler, after, drive }
}
