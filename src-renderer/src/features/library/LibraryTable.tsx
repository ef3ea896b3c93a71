import { useVirtualizer } from '@tanstack/react-virtual'
import { useRef, type CSSProperties } from 'react'
import type { ModelEntry } from '../../../../src-main/common/model-entry'
import { call } from '../../app/call'
import { formatBytes } from '../../app/format'
import { dirname } from '../../app/paths'
import { useAction } from '../../app/use-action'
import { Button } from '../../ui/Button'
import { InlineError } from '../../ui/InlineError'
import { cx } from '../../ui/cx'
import { useBuilderStore } from '../builder/builder-store'
import { roleName } from '../builder/draft'
import { setInput } from '../builder/draft-edits'
import { startModelDrag } from '../builder/model-drag'
import { useResolvedMethod } from '../builder/methods-store'
import type { SortColumn } from './library-query'
import { useLibraryStore } from './library-store'
import { ModelBadges } from './ModelBadges'

const ROW_HEIGHT = 42
const GRID = 'grid items-center gap-x-2'

const COLUMNS: readonly { id: SortColumn | null; label: string; align?: 'right' }[] = [
  { id: 'name', label: 'Name' },
  { id: 'size', label: 'Size', align: 'right' },
  { id: 'date', label: 'Modified' },
  { id: null, label: 'Hash' },
  { id: null, label: 'Use' },
]

function shortDate(ms: number): string {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? '—' : d.toISOString().slice(0, 10)
}

/** The library as a virtualised table: thousands of rows stay smooth; rows drag onto builder slots. */
export function LibraryTable({ rows }: { rows: readonly ModelEntry[] }) {
  const scroller = useRef<HTMLDivElement>(null)
  const slots = useBuilderStore((s) => s.draft.inputs.length)
  const method = useBuilderStore((s) => s.draft.method)
  const hasBase = (useResolvedMethod(method)?.info.inputs.base ?? 'none') !== 'none'
  // one fixed track for the "use as" buttons, sized for the method's slots, so every row lines up
  const columns = { gridTemplateColumns: `minmax(0,1fr) 4.5rem 5.5rem 5.5rem ${slots * 1.625 + (hasBase ? 2.75 : 0)}rem` }
  const query = useLibraryStore((s) => s.query)
  const setQuery = useLibraryStore((s) => s.setQuery)
  const hash = useAction((paths: string[]) => call('library.hash', { paths }))
  // the virtualiser returns fresh functions each render by design; nothing here is memoised on them
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 })

  function sortBy(column: SortColumn): void {
    setQuery(query.sort === column ? { descending: !query.descending } : { sort: column, descending: column === 'date' || column === 'size' })
  }

  return (
    <div role="table" aria-label="Models" aria-rowcount={rows.length + 1} className="flex min-h-0 flex-1 flex-col">
      <div role="rowgroup" className="shrink-0 border-b border-neutral-800 bg-neutral-900 px-3">
        <div role="row" aria-rowindex={1} className={cx(GRID, 'h-7 text-[11px] text-neutral-400')} style={columns}>
          {COLUMNS.map((c) => (
            <div
              key={c.label}
              role="columnheader"
              aria-sort={c.id !== null && query.sort === c.id ? (query.descending ? 'descending' : 'ascending') : undefined}
              className={c.align === 'right' ? 'text-right' : undefined}
            >
              {c.id === null ? (
                c.label
              ) : (
                <button type="button" className="hover:text-neutral-100" onClick={() => c.id && sortBy(c.id)}>
                  {c.label}
                  {query.sort === c.id ? (query.descending ? ' ↓' : ' ↑') : ''}
                </button>
              )}
            </div>
          ))}
        </div>
      </div>
      <InlineError error={hash.error} className="mx-3 my-1" />
      <div ref={scroller} role="rowgroup" className="min-h-0 flex-1 overflow-auto">
        <div className="relative" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const entry = rows[item.index]
            if (!entry) return null
            return (
              <div key={entry.path} className="absolute top-0 left-0 w-full" style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}>
                <Row entry={entry} rowIndex={item.index + 2} columns={columns} onHash={() => void hash.run([entry.path])} />
              </div>
            )
          })}
        </div>
      </div>
    </div>
  )
}

function Row({ entry, rowIndex, columns, onHash }: { entry: ModelEntry; rowIndex: number; columns: CSSProperties; onHash(): void }) {
  const inputs = useBuilderStore((s) => s.draft.inputs)
  const method = useBuilderStore((s) => s.draft.method)
  const edit = useBuilderStore((s) => s.edit)
  const showDetails = useLibraryStore((s) => s.showDetails)
  const info = useResolvedMethod(method)?.info
  const readable = entry.status === 'ok'
  // a LoRA is readable but no merge input: it is baked in through a recipe's LoRA node
  const usable = readable && entry.architecture !== 'lora'
  const hashes = entry.hashes
  return (
    <div
      role="row"
      aria-rowindex={rowIndex}
      aria-label={entry.name}
      draggable={usable}
      onDragStart={(e) => startModelDrag(e, entry.path)}
      style={columns}
      className={cx(GRID, 'h-full border-b border-neutral-800/60 px-3 hover:bg-neutral-900', usable ? 'cursor-grab' : readable ? '' : 'bg-red-950/10')}
    >
      <div role="cell" className="min-w-0">
        <div className="flex min-w-0 items-center gap-1.5">
          <button type="button" className="min-w-0 truncate text-left text-[13px] text-neutral-100 hover:underline" title={entry.path} aria-label={`Details of ${entry.name}`} onClick={() => showDetails(entry.path)}>
            {entry.name}
          </button>
          <ModelBadges entry={entry} />
        </div>
        <div className={cx('truncate text-[11px]', entry.problem ? (entry.status === 'error' ? 'text-red-300' : 'text-amber-300') : 'text-neutral-500')} title={entry.problem ?? entry.path}>
          {entry.problem ?? dirname(entry.path)}
        </div>
      </div>
      <div role="cell" className="text-right text-xs text-neutral-300 tabular-nums">
        {formatBytes(entry.size)}
      </div>
      <div role="cell" className="text-xs text-neutral-400 tabular-nums">
        {shortDate(entry.mtimeMs)}
      </div>
      <div role="cell" className="font-mono text-[11px]">
        {hashes.autov2 ? (
          <span title={`AutoV2 ${hashes.autov2}${hashes.autov3 ? ` · AutoV3 ${hashes.autov3}` : ''}`} className="text-neutral-300">
            {hashes.autov2}
          </span>
        ) : hashes.autov3 ? (
          <span title={`AutoV3 ${hashes.autov3} (tensor data only)`} className="text-neutral-400">
            {hashes.autov3}
          </span>
        ) : readable ? (
          <Button size="sm" variant="ghost" aria-label={`Compute the hash of ${entry.name}`} onClick={onHash}>
            hash
          </Button>
        ) : (
          <span className="text-neutral-600">—</span>
        )}
      </div>
      <div role="cell" className="flex gap-0.5">
        {usable &&
          inputs.map((_, i) => (
            <Button key={i} size="sm" className="w-6 px-0" aria-label={`Use ${entry.name} as ${roleName(i)}`} onClick={() => edit((d) => setInput(d, i, { model: entry.path }))}>
              {roleName(i)}
            </Button>
          ))}
        {usable && info && info.inputs.base !== 'none' && (
          <Button size="sm" aria-label={`Use ${entry.name} as base`} onClick={() => edit((d) => ({ ...d, base: { model: entry.path } }))}>
            base
          </Button>
        )}
      </div>
    </div>
  )
}
