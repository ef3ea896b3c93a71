import type { ModelEntry } from '../../../../src-main/common/model-entry'
import { Badge } from '../../ui/Badge'
import { PREDICTION_LABELS, architectureLabel, mainDType } from './library-query'

/** What a model is at a glance: architecture, variant, stored dtype, and whether it can be used at all. */
export function ModelBadges({ entry }: { entry: ModelEntry }) {
  const dtype = mainDType(entry)
  return (
    <span className="flex shrink-0 items-center gap-1">
      {entry.status === 'error' && <Badge tone="bad">error</Badge>}
      {entry.status === 'unsupported' && <Badge tone="warn">unsupported</Badge>}
      <Badge tone={entry.architecture === 'unknown' ? 'warn' : 'info'}>{architectureLabel(entry.architecture)}</Badge>
      {entry.variant && <Badge>{entry.variant}</Badge>}
      {entry.predictionType !== 'eps' && entry.predictionType !== 'unknown' && (
        <Badge tone="accent" title={entry.predictionSource ? `prediction type from ${entry.predictionSource}` : undefined}>
          {PREDICTION_LABELS[entry.predictionType] ?? entry.predictionType}
        </Badge>
      )}
      {dtype && <Badge>{dtype.toLowerCase()}</Badge>}
      {entry.recipe !== null && (
        <Badge tone="accent" title="Made by a merge: its recipe is embedded">
          merged
        </Badge>
      )}
    </span>
  )
}
