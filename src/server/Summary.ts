/** count/sum/min/max of a measured value (latencies, sizes), as srvr/cons/mntr print them. */
export class Summary {
  count = 0
  sum = 0
  /** 0 until the first value. */
  min = 0
  max = 0

  record(v: number): void {
    if (this.count === 0 || v < this.min) this.min = v
    if (v > this.max) this.max = v
    this.sum += v
    this.count++
  }

  reset(): void {
    this.count = 0
    this.sum = 0
    this.min = 0
    this.max = 0
  }
}
