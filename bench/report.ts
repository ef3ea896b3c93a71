import type { BenchReport } from './bench'

const GB = 1e9

/** The human-readable report: one row per method and cache state, one per case, then the targets. */
export function formatReport(report: BenchReport): string {
  const lines = [`Amalgam benchmark (${report.scale} shapes), ${report.cpus} CPUs`]
  if (report.models !== null) {
    const title = report.architecture === 'sdxl' ? 'SDXL' : 'SD1.5'
    lines.push(`${title} inputs: ${report.scale} layout, fp16, ${(report.models.bytes / GB).toFixed(2)} GB each`)
  }
  if (report.llm !== null) lines.push(`LLM inputs: Llama-3.2-1B layout (${report.scale}), bf16 Hugging Face folders of ${(report.llm.bytes / GB).toFixed(2)} GB each`)
  lines.push(
    `compute: ${report.compute}`,
    `load average (1 min): ${report.loadAverage.start.toFixed(2)} at start, ${report.loadAverage.end.toFixed(2)} at end`,
    'CPU s: user + system time of the measured process, all threads (machine load inflates wall time, not this)',
  )
  if (report.rows.length > 0) {
    const header = ['method', 'cache', 'inputs', 'wall s', 'CPU s', 'peak RSS', 'I/O floor s', 'floor RSS', 'ratio']
    const body = report.rows.map((r) => [
      r.method,
      r.cache,
      String(r.inputs),
      r.merge.seconds.toFixed(2),
      r.merge.cpuSeconds.toFixed(1),
      formatBytes(r.merge.peakRssBytes),
      r.floor.seconds.toFixed(2),
      formatBytes(r.floor.peakRssBytes),
      `${r.ratio.toFixed(2)}x`,
    ])
    lines.push('', ...table([header, ...body]))
  }
  if (report.cases.length > 0) {
    const header = ['case', 'cache', 'wall s', 'CPU s', 'peak RSS', 'I/O floor s', 'ratio']
    const body = report.cases.map((c) => [
      c.case,
      c.cache,
      c.run.seconds.toFixed(2),
      c.run.cpuSeconds.toFixed(1),
      formatBytes(c.run.peakRssBytes),
      c.floor === null ? '-' : c.floor.seconds.toFixed(2),
      c.ratio === null ? '-' : `${c.ratio.toFixed(2)}x`,
    ])
    lines.push('', ...table([header, ...body]))
  }
  if (report.coldUnavailable !== null) lines.push('', `cold: ${report.coldUnavailable}`)
  if (report.targets.length > 0) {
    lines.push('', 'targets (2-core machine):')
    for (const t of report.targets) lines.push(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.value}`)
  }
  return lines.join('\n')
}

function formatBytes(bytes: number): string {
  return bytes >= GB ? `${(bytes / GB).toFixed(2)} GB` : `${Math.round(bytes / 1e6)} MB`
}

/** Left-aligned text columns, right-aligned numbers. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd())
}
