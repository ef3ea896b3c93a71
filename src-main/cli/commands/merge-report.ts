import type { MergeEvent } from '../../common/events'
import type { PlanSummary } from '../../common/plan-summary'
import { formatBytes, formatDuration } from '../../engine/plan/format'

const MARKS = { blocking: '✖', warning: '!', info: '·' } as const

/** The pre-flight summary as `amalgam plan` prints it. */
export function summaryText(s: PlanSummary): string {
  const lines: string[] = []
  const convention = s.blockConvention.name === 'none' ? 'no block convention' : `${s.blockConvention.name} ${s.blockConvention.version} blocks`
  if (s.inputs.length > 0) {
    lines.push(`architecture  ${s.architecture} (${convention})`)
    const width = Math.max(...s.inputs.map((i) => i.role.length))
    s.inputs.forEach((input, i) => {
      const what = `${input.architecture}, ${input.predictionType}, ${formatBytes(input.size)}`
      lines.push(`${i === 0 ? 'inputs' : ''.padEnd(6)}        ${input.role.padEnd(width)}  ${input.path}  (${what})`)
    })
    const free = s.freeDiskBytes === null ? '' : `, ${formatBytes(s.freeDiskBytes)} free`
    lines.push(`output        ${s.outputPath}  (${s.outputDType}, ${formatBytes(s.outputBytes)}${free})`)
    const c = s.counts
    lines.push(`keys          ${c.keys}: ${c.merged} merged, ${c.copied} copied, ${c.dropped} dropped; ${c.missing} missing in some input, ${c.shapeMismatches} shape mismatches`)
    lines.push(`estimates     peak memory ${formatBytes(s.estimatedPeakBytes)}, about ${formatDuration(s.estimatedSeconds * 1000)} (backend: ${s.backend})`)
  }
  if (s.findings.length > 0) {
    lines.push('findings:')
    for (const f of s.findings) {
      const examples = f.keys !== undefined && f.keys.length > 0 ? ` (e.g. ${f.keys.slice(0, 3).join(', ')})` : ''
      lines.push(`  ${MARKS[f.severity]} ${f.message}${examples}`)
    }
  }
  const blocking = s.findings.filter((f) => f.severity === 'blocking').length
  lines.push(s.ok ? 'ready to merge' : `not ready: ${blocking} blocking finding${blocking === 1 ? '' : 's'}`)
  return lines.join('\n')
}

/** One line for a terminal: phase, bar, percentage, current key, ETA and throughput. */
export function progressLine(event: Extract<MergeEvent, { type: 'progress' }>, width: number): string {
  const fraction = event.bytesTotal > 0 ? event.bytesDone / event.bytesTotal : event.total > 0 ? event.index / event.total : 0
  const cells = 20
  const filled = Math.round(Math.min(1, fraction) * cells)
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(cells - filled)}]`
  const rate = event.elapsedMs > 0 ? `${formatBytes((event.bytesDone / event.elapsedMs) * 1000)}/s` : ''
  const eta = event.etaMs === null ? 'ETA --' : `ETA ${formatDuration(event.etaMs)}`
  const head = `${event.phase} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${eta} ${rate} `
  const room = Math.max(0, width - head.length - 1)
  const key = event.key.length > room ? `…${event.key.slice(event.key.length - room + 1)}` : event.key
  return head + key
}
