/** Throws (a defect, never caught) when an invariant of the quorum core does not hold. */
export const assert: (cond: boolean, why: string) => asserts cond = (cond, why) => {
  if (!cond) throw new Error(`assertion failed: ${why}`)
}
