import { execFileSync, fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { AmalgamError, describeError } from '../src-main/engine/errors'
import { ChildResult, type ChildJob } from './child-protocol'

export interface Measurement {
  readonly seconds: number
  readonly cpuSeconds: number
  readonly peakRssBytes: number
  readonly bytes: number
}

const CHILD_FILE = fileURLToPath(new URL('./child.ts', import.meta.url))

/**
 * Runs one job in a fresh Node process (TypeScript through tsx, as the CLI runs), so the peak RSS
 * it reports belongs to that job alone. The child's own output goes to stderr: stdout is the report's.
 */
export function measureInChild(job: ChildJob): Promise<Measurement> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_FILE, [JSON.stringify(job)], { execArgv: ['--import', tsx], stdio: ['ignore', 2, 2, 'ipc'] })
    let result: ChildResult | null = null
    child.on('message', (message) => {
      const parsed = ChildResult.safeParse(message)
      result = parsed.success ? parsed.data : { ok: false, message: `unexpected message from the child: ${JSON.stringify(message)}` }
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      const r = result as ChildResult | null
      if (r === null) reject(new AmalgamError('INTERNAL', `bench ${job.kind}: the child process ended (code ${code}, signal ${signal}) without a result`))
      else if (!r.ok) reject(new AmalgamError('INTERNAL', `bench ${job.kind}: ${r.message}`))
      else resolve({ seconds: r.seconds, cpuSeconds: r.cpuSeconds, peakRssBytes: r.peakRssBytes, bytes: r.bytes })
    })
  })
}

/**
 * Empties the page cache (dirty pages written first) so the next job reads from disk. Needs root
 * and a writable /proc/sys, which containers often refuse: returns why it could not, or null.
 */
export function dropPageCache(): string | null {
  try {
    execFileSync('sync')
    writeFileSync('/proc/sys/vm/drop_caches', '3')
    return null
  } catch (err) {
    return describeError(err)
  }
}
