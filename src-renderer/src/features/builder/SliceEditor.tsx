import { useId } from 'react'
import { isModelInput, type LayerSlice } from '../../../../src-main/common/recipe'
import type { ModelEntry } from '../../../../src-main/common/model-entry'
import { basename } from '../../app/paths'
import { Button } from '../../ui/Button'
import { SelectField } from '../../ui/Field'
import { NumberInput } from '../../ui/NumberInput'
import { useLibraryStore } from '../library/library-store'
import { useBuilderStore } from './builder-store'
import { addSlice, moveSlice, removeSlice, updateSlice } from './draft-edits'
import { SLICE_METHOD, sliceProblem, totalSliceLayers } from './slices'

const NO_ENTRIES: readonly ModelEntry[] = []

function useLibraryEntries(): readonly ModelEntry[] {
  return useLibraryStore((s) => s.snapshot?.entries) ?? NO_ENTRIES
}

/**
 * Whether the builder shows the slice editor: the method is passthrough and model a is a language
 * model the library knows (or the draft already has slices, from a loaded recipe).
 */
export function useSlicesApply(): boolean {
  const method = useBuilderStore((s) => s.draft.method)
  const first = useBuilderStore((s) => s.draft.inputs[0])
  const hasSlices = useBuilderStore((s) => s.draft.slices.length > 0)
  const entries = useLibraryEntries()
  if (method !== SLICE_METHOD) return false
  if (hasSlices) return true
  const path = first && isModelInput(first) ? first.model : null
  return entries.some((e) => e.path === path && e.llm !== null)
}

/** Frankenmerge layer slices: model and [from, to) per slice, in output order, with the output's depth. */
export function SliceEditor() {
  const slices = useBuilderStore((s) => s.draft.slices)
  const first = useBuilderStore((s) => s.draft.inputs[0])
  const edit = useBuilderStore((s) => s.edit)
  const entries = useLibraryEntries()
  const llms = entries.filter((e) => e.llm !== null && e.status === 'ok')
  const layerCount = (path: string): number | undefined => entries.find((e) => e.path === path)?.llm?.layers
  const primary = first && isModelInput(first) ? first.model : llms[0]?.path

  function add(): void {
    const model = slices[slices.length - 1]?.model ?? primary
    if (model === undefined) return
    edit((d) => addSlice(d, { model, layers: [0, layerCount(model) ?? 1] }))
  }

  const total = totalSliceLayers(slices)
  return (
    <div className="flex flex-col gap-1.5">
      <p className="text-[11px] text-neutral-500">
        The output&apos;s layers are these slices stacked in order and renumbered from 0; embeddings, final norm and head come from model a. Layers are [first, end): the end is
        not included, as in mergekit&apos;s layer_range.
      </p>
      {slices.length === 0 ? (
        <p className="text-xs text-neutral-500">No slices: the passthrough copies model a unchanged.</p>
      ) : (
        <ol className="flex flex-col gap-1">
          {slices.map((slice, i) => (
            <SliceRow key={i} slice={slice} index={i} count={slices.length} llms={llms} layerCount={layerCount(slice.model)} />
          ))}
        </ol>
      )}
      <div className="flex items-center gap-2">
        <Button size="sm" disabled={primary === undefined} onClick={add}>
          + Add slice
        </Button>
        <span role="status" className="text-xs text-neutral-300 tabular-nums">
          Output depth: {total} {total === 1 ? 'layer' : 'layers'}
        </span>
      </div>
    </div>
  )
}

function SliceRow({ slice, index, count, llms, layerCount }: { slice: LayerSlice; index: number; count: number; llms: readonly ModelEntry[]; layerCount: number | undefined }) {
  const edit = useBuilderStore((s) => s.edit)
  const n = index + 1
  const problem = sliceProblem(slice, layerCount)
  const options = [
    ...llms.map((e) => ({ value: e.path, label: `${e.name} (${e.llm?.layers ?? '?'} layers)` })),
    ...(llms.some((e) => e.path === slice.model) ? [] : [{ value: slice.model, label: `${basename(slice.model)} (not in the library)` }]),
  ]
  const problemId = useId()
  return (
    <li role="group" aria-label={`Slice ${n}`} aria-describedby={problem ? problemId : undefined} className="rounded border border-neutral-800 bg-neutral-900 px-2 py-1">
      <div className="flex items-end gap-2">
        <span className="w-5 pb-1 text-xs text-neutral-500 tabular-nums">{n}.</span>
        <SelectField label={`Model of slice ${n}`} hideLabel value={slice.model} options={options} onChange={(model) => edit((d) => updateSlice(d, index, { model }))} className="min-w-0 flex-1" />
        <NumberInput
          label={`First layer of slice ${n}`}
          value={slice.layers[0]}
          integer
          min={0}
          onChange={(from) => edit((d) => updateSlice(d, index, { layers: [from, slice.layers[1]] }), `slice-from:${index}`)}
          className="w-16"
        />
        <span className="pb-1 text-xs text-neutral-500">to</span>
        <NumberInput
          label={`End layer of slice ${n} (exclusive)`}
          value={slice.layers[1]}
          integer
          min={1}
          onChange={(to) => edit((d) => updateSlice(d, index, { layers: [slice.layers[0], to] }), `slice-to:${index}`)}
          className="w-16"
        />
        <span className="w-20 pb-1 text-right text-[11px] text-neutral-400 tabular-nums">{problem ? '' : `${slice.layers[1] - slice.layers[0]} layers`}</span>
        <Button size="sm" variant="ghost" aria-label={`Move slice ${n} up`} disabled={index === 0} onClick={() => edit((d) => moveSlice(d, index, -1))}>
          ↑
        </Button>
        <Button size="sm" variant="ghost" aria-label={`Move slice ${n} down`} disabled={index === count - 1} onClick={() => edit((d) => moveSlice(d, index, 1))}>
          ↓
        </Button>
        <Button size="sm" variant="ghost" aria-label={`Remove slice ${n}`} onClick={() => edit((d) => removeSlice(d, index))}>
          Remove
        </Button>
      </div>
      {problem && (
        <p id={problemId} className="mt-0.5 text-[11px] text-red-300">
          Slice {n}: {problem}
        </p>
      )}
    </li>
  )
}
