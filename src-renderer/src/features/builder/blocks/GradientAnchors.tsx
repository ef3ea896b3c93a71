import { Button } from '../../../ui/Button'
import { NumberInput } from '../../../ui/NumberInput'

/**
 * A mergekit-style gradient: anchors spread evenly from the first block to the last, linear in
 * between. Two anchors make a ramp, three a V or a hump.
 */
export function GradientAnchors({ label, anchors, onChange, limits }: { label: string; anchors: readonly number[]; onChange(anchors: number[]): void; limits: { min?: number; max?: number } }) {
  return (
    <div className="flex flex-col gap-1">
      <ol aria-label={`${label} gradient anchors`} className="flex flex-wrap items-center gap-1.5">
        {anchors.map((value, i) => (
          <li key={i} className="flex items-center gap-0.5">
            <NumberInput
              label={`${label} anchor ${i + 1}`}
              value={value}
              step={0.05}
              {...limits}
              className="w-16"
              onChange={(v) => onChange(anchors.map((a, j) => (j === i ? v : a)))}
            />
            {anchors.length > 1 && (
              <button type="button" aria-label={`Remove ${label} anchor ${i + 1}`} className="px-0.5 text-neutral-500 hover:text-neutral-200" onClick={() => onChange(anchors.filter((_, j) => j !== i))}>
                ×
              </button>
            )}
          </li>
        ))}
        <li>
          <Button size="sm" aria-label={`Add ${label} anchor`} onClick={() => onChange([...anchors, anchors[anchors.length - 1] ?? 0])}>
            + anchor
          </Button>
        </li>
      </ol>
      <p className="text-[11px] text-neutral-500">Anchors are spread evenly over the blocks in order; blocks in between get linearly interpolated values (mergekit’s gradient rule).</p>
    </div>
  )
}
