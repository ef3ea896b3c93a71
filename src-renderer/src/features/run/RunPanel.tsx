import { formatBytes, formatDuration } from '../../app/format'
import { useAction } from '../../app/use-action'
import { call } from '../../app/call'
import { Badge } from '../../ui/Badge'
import { Button } from '../../ui/Button'
import { InlineError } from '../../ui/InlineError'
import { ProgressBar } from '../../ui/ProgressBar'
import { useBuilderStore } from '../builder/builder-store'
import { useIsDesktop } from '../status/status-store'
import { BlockHeatmap } from './BlockHeatmap'
import { useCurrentJob, useRunStore, type JobView } from './run-store'

const PHASE_LABELS = { hashing: 'Hashing inputs', statistics: 'Reading statistics', merging: 'Merging', finalising: 'Finalising' } as const

/** The job being followed: live progress while it runs, then its result. */
export function RunPanel() {
  const job = useCurrentJob()
  const startError = useRunStore((s) => s.startError)
  if (startError) return <InlineError error={`The merge did not start: ${startError.message}`} />
  if (!job) return null
  return job.terminal ? <ResultCard job={job} /> : <Progress job={job} />
}

function Progress({ job }: { job: JobView }) {
  const cancel = useRunStore((s) => s.cancel)
  const cancelError = useRunStore((s) => s.cancelError)
  const p = job.progress
  const throughput = p && p.elapsedMs > 0 ? (p.bytesDone / p.elapsedMs) * 1000 : null
  return (
    <div className="flex flex-col gap-1.5" role="region" aria-label="Merge progress">
      <div className="flex items-center gap-2">
        <span className="text-[13px] font-medium">{job.phase ? PHASE_LABELS[job.phase] : 'Starting'}…</span>
        {p && (
          <span className="text-xs text-neutral-400 tabular-nums">
            key {p.index + 1} of {p.total}
          </span>
        )}
        <span className="flex-1" />
        <Button variant="danger" disabled={job.cancelRequested} onClick={() => void cancel()}>
          {job.cancelRequested ? 'Cancelling…' : 'Cancel merge'}
        </Button>
      </div>
      <ProgressBar label="Merge progress" value={p ? p.bytesDone : 0} total={p ? p.bytesTotal : 0} />
      {p && (
        <div className="grid grid-cols-[auto_1fr] gap-x-3 text-xs">
          <span className="text-neutral-500">Key</span>
          <code className="truncate text-neutral-300" title={p.key}>
            {p.key}
          </code>
          <span className="text-neutral-500">Data</span>
          <span className="tabular-nums">
            {formatBytes(p.bytesDone)} of {formatBytes(p.bytesTotal)}
            {throughput !== null && ` · ${formatBytes(throughput)}/s`}
          </span>
          <span className="text-neutral-500">Time</span>
          <span className="tabular-nums">
            {formatDuration(p.elapsedMs)} elapsed{p.etaMs !== null && ` · about ${formatDuration(p.etaMs)} left`}
          </span>
        </div>
      )}
      <InlineError error={cancelError} />
      <Warnings job={job} />
    </div>
  )
}

function Warnings({ job }: { job: JobView }) {
  if (job.warnings.length === 0) return null
  return (
    <ul aria-label="Merge warnings" className="flex max-h-28 flex-col gap-0.5 overflow-auto">
      {job.warnings.map((w, i) => (
        <li key={i} className="flex items-start gap-1.5 text-xs text-amber-200">
          <Badge tone="warn">warning</Badge>
          <span className="min-w-0 break-words">
            {w.key && <code className="text-amber-300">{w.key}: </code>}
            {w.message}
          </span>
        </li>
      ))}
    </ul>
  )
}

function ResultCard({ job }: { job: JobView }) {
  const dismiss = useRunStore((s) => s.dismiss)
  const load = useBuilderStore((s) => s.load)
  const desktop = useIsDesktop()
  const reveal = useAction((path: string) => call('files.reveal', { path }))
  const end = job.terminal
  if (!end) return null
  const recipe = end.type === 'done' ? end.lineage.recipe : job.recipe
  return (
    <div className="flex flex-col gap-2" role="region" aria-label="Merge result">
      <div className="flex items-center gap-2">
        {end.type === 'done' && <Badge tone="good">done</Badge>}
        {end.type === 'failed' && <Badge tone="bad">failed</Badge>}
        {end.type === 'cancelled' && <Badge tone="warn">cancelled</Badge>}
        <span className="min-w-0 flex-1 text-[13px]">
          {end.type === 'done' && `Merged in ${formatDuration(end.durationMs)}`}
          {end.type === 'failed' && 'The merge failed; nothing was written.'}
          {end.type === 'cancelled' && 'The merge was cancelled; nothing was written.'}
        </span>
        {recipe && (
          <Button onClick={() => load(recipe, 'Loaded the recipe of the last merge.')}>Load recipe into builder</Button>
        )}
        <Button variant="ghost" onClick={dismiss}>
          Close
        </Button>
      </div>
      {end.type === 'failed' && <InlineError error={end.error} />}
      {end.type === 'done' && (
        <>
          <div className="grid grid-cols-[auto_1fr_auto] items-center gap-x-3 gap-y-0.5 text-xs">
            <span className="text-neutral-500">File</span>
            <code className="break-all text-neutral-200">{end.path}</code>
            {desktop ? (
              <Button size="sm" onClick={() => void reveal.run(end.path)}>
                Reveal in folder
              </Button>
            ) : (
              <span />
            )}
            <span className="text-neutral-500">Lineage</span>
            <code className="break-all text-neutral-400">{end.lineagePath}</code>
            <span />
            <span className="text-neutral-500">Output</span>
            <span>
              {formatBytes(end.lineage.output.size)}, {end.lineage.output.keys} keys, {end.lineage.output.dtype}, on {end.lineage.engine.backend}
            </span>
            <span />
          </div>
          <InlineError error={reveal.error} />
          {end.lineage.warnings.length > 0 && (
            <ul aria-label="Merge warnings" className="text-xs text-amber-200">
              {end.lineage.warnings.map((w, i) => (
                <li key={i}>⚠ {w}</li>
              ))}
            </ul>
          )}
          <h4 className="text-[11px] font-semibold text-neutral-400 uppercase">Change per block</h4>
          <BlockHeatmap stats={end.lineage.blockStats} architecture={job.plan?.architecture ?? end.lineage.inputs[0]?.architecture ?? 'unknown'} convention={job.plan?.blockConvention ?? end.lineage.recipe.blocks ?? null} />
        </>
      )}
      {end.type !== 'done' && <Warnings job={job} />}
    </div>
  )
}
