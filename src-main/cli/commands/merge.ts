import type { MergeEvent } from '../../common/events'
import { runRecipe } from '../../engine/execute/run-recipe'
import { formatBytes, formatDuration } from '../../engine/plan/format'
import { previewRecipe } from '../../engine/plan/plan-recipe'
import type { Command, CommandIO } from '../command'
import { MERGE_ARGS_USAGE, parseMergeArgs } from './merge-args'
import { progressLine, summaryText } from './merge-report'

/** The conventional exit status of a process stopped by SIGINT. */
const EXIT_CANCELLED = 130
const REDRAW_MS = 100

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'merge models from a recipe file or from flags',
  usage: [
    'usage: amalgam merge RECIPE.json [--out PATH] [--overwrite] [--json-progress]',
    '       amalgam merge --method ID --input PATH [--input PATH ...] [--base PATH] [--param NAME=VALUE ...]',
    '                     [--blocks NAME=v1,v2,...] [--seed N] [--dtype TYPE] --out PATH [--overwrite] [--json-progress]',
    '',
    MERGE_ARGS_USAGE,
    '  --json-progress      print every merge event as one JSON line on stdout',
    '',
    'Checks everything first (`amalgam plan` shows that check without merging), then writes',
    '<out>.partial and renames it when complete, with <out name>.lineage.json beside it.',
    'Exit status: 0 done, 1 refused or failed, 2 usage error, 130 cancelled (Ctrl+C; nothing is left behind).',
  ].join('\n'),
  async run(argv, io) {
    const request = await parseMergeArgs(argv, { jsonProgress: true, json: false })
    const controller = new AbortController()
    const interrupt = (): void => controller.abort()
    process.once('SIGINT', interrupt)
    const report = request.jsonProgress ? (event: MergeEvent) => io.out(JSON.stringify(event)) : humanReporter(io)
    let outcome: MergeEvent | null = null
    try {
      await runRecipe(request.recipe, {
        cwd: request.cwd,
        overwrite: request.overwrite,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'done' || event.type === 'failed' || event.type === 'cancelled') outcome = event
          report(event)
        },
      })
    } finally {
      process.removeListener('SIGINT', interrupt)
    }
    return exitCode(outcome)
  },
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'check a merge before running it: inputs, keys, findings, size, memory and time',
  usage: [
    'usage: amalgam plan RECIPE.json [--out PATH] [--overwrite] [--json]',
    '       amalgam plan --method ID --input PATH [--input PATH ...] [...] --out PATH [--json]',
    '',
    MERGE_ARGS_USAGE,
    '  --json               print the summary as JSON (what the app\'s pre-flight panel shows)',
    '',
    'Reads only the inputs\' headers (and a few bytes of CLIP position ids); writes nothing.',
    'Exit status: 0 ready to merge, 1 blocked (the findings say why), 2 usage error.',
  ].join('\n'),
  async run(argv, io) {
    const request = await parseMergeArgs(argv, { jsonProgress: false, json: true })
    const summary = await previewRecipe(request.recipe, { cwd: request.cwd, overwrite: request.overwrite })
    io.out(request.json ? JSON.stringify(summary, null, 2) : summaryText(summary))
    return summary.ok ? 0 : 1
  },
}

function exitCode(outcome: MergeEvent | null): number {
  if (outcome === null) return 1
  if (outcome.type === 'done') return 0
  return outcome.type === 'cancelled' ? EXIT_CANCELLED : 1
}

/**
 * Events for a person: the plan's findings when the merge starts, a progress bar on a terminal
 * (phase lines otherwise), warnings, and how it ended.
 */
function humanReporter(io: CommandIO): (event: MergeEvent) => void {
  // interactive means stderr is this process's terminal, where a line can be redrawn in place
  const terminal = io.interactive ? process.stderr : null
  let barShown = false
  let lastDrawn = 0
  const clearBar = (): void => {
    if (barShown) terminal?.write('\r\x1b[K')
    barShown = false
  }
  return (event) => {
    switch (event.type) {
      case 'started':
        for (const f of event.plan.findings.filter((f) => f.severity !== 'info')) io.err(`${f.severity}: ${f.message}`)
        io.err(`merging ${event.plan.counts.keys} keys into ${event.plan.outputPath} (${event.plan.outputDType}, ${formatBytes(event.plan.outputBytes)})`)
        return
      case 'phase':
        if (terminal === null) io.err(`${event.phase}...`)
        return
      case 'progress': {
        // a redraw per key would flood slow terminals: a few per second, and the last one
        const now = Date.now()
        if (terminal === null || (now - lastDrawn < REDRAW_MS && event.index < event.total)) return
        lastDrawn = now
        terminal.write(`\r${progressLine(event, (terminal.columns || 100) - 1)}\x1b[K`)
        barShown = true
        return
      }
      case 'warning':
        clearBar()
        io.err(`warning: ${event.key === undefined ? '' : `${event.key}: `}${event.message}`)
        return
      case 'done':
        clearBar()
        io.out(`wrote ${event.path} in ${formatDuration(event.durationMs)} (${event.lineage.output.keys} keys, ${formatBytes(event.lineage.output.size)})`)
        io.out(`lineage: ${event.lineagePath}`)
        return
      case 'failed':
        clearBar()
        io.err(`amalgam merge: ${event.error.message}`)
        return
      case 'cancelled':
        clearBar()
        io.err('amalgam merge: cancelled; nothing was written')
        return
    }
  }
}
