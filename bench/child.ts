import { readFileSync } from 'node:fs'
import { describeError } from '../src-main/engine/errors'
import { ChildJob, type ChildResult } from './child-protocol'
import { measureIoFloor } from './floor'

/**
 * A measuring child process (started by measure.ts with a job as argv[2]): runs one job, then reports
 * its wall time and the process's peak resident memory to the parent over the IPC channel.
 */
async function main(): Promise<void> {
  let result: ChildResult
  try {
    const job = ChildJob.parse(JSON.parse(process.argv[2] ?? 'null'))
    let measure: () => Promise<number>
    if (job.kind === 'floor') {
      measure = () => Promise.resolve(measureIoFloor(job.inputs, job.output, job.outputBytes))
    } else if (job.kind === 'merge') {
      // loaded before the clock starts, and for merges only: the floor's RSS is that of a bare Node process
      const { runMergeJob } = await import('./merge-job')
      measure = () => runMergeJob(job)
    } else {
      const { prepareCaseJob } = await import('./case-job')
      measure = await prepareCaseJob(job)
    }
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    const bytes = await measure()
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    result = { ok: true, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssBytes: peakRssBytes(), bytes }
  } catch (err) {
    result = { ok: false, message: describeError(err) }
  }
  process.send?.(result, () => process.disconnect())
}

/** The high-water mark of the resident set, worker threads included (they share the process). */
function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match?.[1] !== undefined) return Number(match[1]) * 1024
  } catch {
    // not Linux: resourceUsage reports the same high-water mark in KiB
  }
  return process.resourceUsage().maxRSS * 1024
}

await main()
