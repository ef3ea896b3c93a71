import { inputClass, SelectField } from '../../ui/Field'
import { cx } from '../../ui/cx'
import { ARCHITECTURE_LABELS, DATE_BUCKETS, PREDICTION_LABELS, SIZE_BUCKETS } from './library-query'
import { useLibraryStore } from './library-store'

/** Search and filters over the library table; architecture and prediction list only what the library holds. */
export function LibraryFilters() {
  const query = useLibraryStore((s) => s.query)
  const setQuery = useLibraryStore((s) => s.setQuery)
  const entries = useLibraryStore((s) => s.snapshot?.entries)
  const architectures = [...new Set((entries ?? []).map((e) => e.architecture))].sort()
  const predictions = [...new Set((entries ?? []).map((e) => e.predictionType))].sort()
  return (
    <div className="flex flex-wrap items-end gap-1 border-b border-neutral-800 px-3 py-1.5 [&_select]:h-6 [&_select]:px-0.5 [&_select]:text-xs">
      <input
        type="search"
        aria-label="Search models"
        placeholder="Search name, path, hash…"
        className={cx(inputClass, 'h-6 min-w-24 flex-1 text-xs')}
        value={query.text}
        onChange={(e) => setQuery({ text: e.target.value })}
      />
      <SelectField
        label="Architecture"
        hideLabel
        value={query.architecture}
        options={[{ value: 'any', label: 'any architecture' }, ...architectures.map((a) => ({ value: a, label: ARCHITECTURE_LABELS[a] ?? a }))]}
        onChange={(architecture) => setQuery({ architecture })}
      />
      <SelectField
        label="Prediction type"
        hideLabel
        value={query.prediction}
        options={[{ value: 'any', label: 'any prediction' }, ...predictions.map((p) => ({ value: p, label: PREDICTION_LABELS[p] ?? p }))]}
        onChange={(prediction) => setQuery({ prediction })}
      />
      <SelectField
        label="Size"
        hideLabel
        value={query.size}
        options={SIZE_BUCKETS.map((b) => ({ value: b.value, label: b.label }))}
        onChange={(size) => setQuery({ size: SIZE_BUCKETS.find((b) => b.value === size)?.value ?? 'any' })}
      />
      <SelectField
        label="Date modified"
        hideLabel
        value={query.date}
        options={DATE_BUCKETS.map((b) => ({ value: b.value, label: b.label }))}
        onChange={(date) => setQuery({ date: DATE_BUCKETS.find((b) => b.value === date)?.value ?? 'any' })}
      />
    </div>
  )
}
