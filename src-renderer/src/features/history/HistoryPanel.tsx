import { useEffect } from 'react'
import type { HistoryEntry } from '../../../../src-main/common/ipc'
import { call } from '../../app/call'
import { formatDate, formatDuration } from '../../app/format'
import { basename } from '../../app/paths'
import { useAction } from '../../app/use-action'
import { Badge, type Tone } from '../../ui/Badge'
import { Button } from '../../ui/Button'
import { InlineError } from '../../ui/InlineError'
import { useBuilderStore } from '../builder/builder-store'
import { useCurrentJob, useRunStore } from '../run/run-store'
import { useHistoryStore } from './history-store'

const STATUS_TONE: Readonly<Record<HistoryEntry['status'], Tone>> = { done: 'good', failed: 'bad', cancelled: 'warn' }

/** Past merges with their recipes: run one again, or load it into the builder to change it. */
export function HistoryPanel() {
  const { entries, loaded, error, refresh } = useHistoryStore()
  useEffect(() => {
    void refresh()
  }, [refresh])
  return (
    <div className="min-h-0 flex-1 overflow-auto px-3 py-2">
      <InlineError error={error} className="mb-2" />
      {loaded && entries.length === 0 && <p className="text-xs text-neutral-400">No merges yet. Finished, failed and cancelled merges appear here with their recipes.</p>}
      <ul aria-label="Past merges" className="flex flex-col">
        {entries.map((entry) => (
          <HistoryRow key={entry.id} entry={entry} />
        ))}
      </ul>
    </div>
  )
}

function HistoryRow({ entry }: { entry: HistoryEntry }) {
  const load = useBuilderStore((s) => s.load)
  const start = useRunStore((s) => s.start)
  const job = useCurrentJob()
  const refresh = useHistoryStore((s) => s.refresh)
  const rerun = useAction(() => start(entry.recipe))
  const remove = useAction(() => call('history.delete', { id: entry.id }))
  const name = basename(entry.outputPath)
  const running = job !== null && job.terminal === null
  return (
    <li className="border-b border-neutral-800/70 py-1.5">
      <div className="flex items-center gap-2">
        <Badge tone={STATUS_TONE[entry.status]}>{entry.status}</Badge>
        <span className="min-w-0 flex-1 truncate text-[13px]" title={entry.outputPath}>
          {name}
        </span>
        <code className="text-[11px] text-neutral-400">{entry.method}</code>
      </div>
      <div className="text-[11px] text-neutral-500">
        {formatDate(entry.startedAt)} · {formatDuration(entry.durationMs)} · <span className="break-all">{entry.outputPath}</span>
      </div>
      {entry.error && <p className="text-xs text-red-300">{entry.error}</p>}
      <div className="mt-0.5 flex gap-1">
        <Button size="sm" aria-label={`Load the recipe of ${name} into the builder`} onClick={() => load(entry.recipe, `Loaded the recipe of ${name} from the history.`)}>
          Load into builder
        </Button>
        <Button size="sm" aria-label={`Run ${name} again`} disabled={running || rerun.pending} title={running ? 'A merge is running' : undefined} onClick={() => void rerun.run()}>
          Re-run
        </Button>
        <span className="flex-1" />
        <Button
          size="sm"
          variant="ghost"
          aria-label={`Remove ${name} from the history`}
          onClick={async () => {
            if ((await remove.run()) !== null) await refresh()
          }}
        >
          Remove
        </Button>
      </div>
      <InlineError error={rerun.error ?? remove.error} className="mt-1" />
    </li>
  )
}
