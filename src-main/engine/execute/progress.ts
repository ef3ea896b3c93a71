/**
 * Elapsed time since the run started, and the time left in the current phase extrapolated from the
 * phase's own rate so far (null until there is something to extrapolate from).
 */
export class ProgressClock {
  private readonly phaseStart = Date.now()

  constructor(private readonly runStart: number) {}

  estimate(fractionDone: number): { elapsedMs: number; etaMs: number | null } {
    const now = Date.now()
    const phaseElapsed = now - this.phaseStart
    const etaMs = fractionDone >= 1 ? 0 : fractionDone > 0 && phaseElapsed > 0 ? Math.round((phaseElapsed * (1 - fractionDone)) / fractionDone) : null
    return { elapsedMs: now - this.runStart, etaMs }
  }
}
