import { useState, type DragEvent } from 'react'
import type { LoraApplication, LoraBlockWeights } from '../../../../src-main/common/recipe'
import { basename } from '../../app/paths'
import { Button } from '../../ui/Button'
import { SelectField } from '../../ui/Field'
import { InlineError } from '../../ui/InlineError'
import { NumberSlider } from '../../ui/NumberInput'
import { usePathPicker } from '../files/use-path-picker'
import { useLibraryStore } from '../library/library-store'
import { useBuilderStore } from './builder-store'
import { addLoras, removeLora, updateLora, type LoraSlot } from './draft-edits'
import { LORA_BLOCK_PRESETS } from './lora-block-presets'
import { droppedModel, isModelDrag } from './model-drag'

const LORA_EXTENSIONS = ['safetensors']
/** the slider's span; the number field takes any strength (the engine accepts any, negative subtracts) */
const STRENGTH_RANGE = { min: -2, max: 2, step: 0.05 }
const NO_LORAS: readonly LoraApplication[] = []
const ALL_BLOCKS = ''
/** shown for block weights a loaded recipe wrote as numbers or a map (kept as they are) */
const CUSTOM_BLOCKS = 'custom'

/** The LoRAs baked into one slot's model: each with its strength and block weights, and a chooser to add more. */
export function LoraAttachments({ slot, slotName }: { slot: LoraSlot; slotName: string }) {
  // selected without a fallback: a fresh [] on every read would make the store see a change each time
  const loras = useBuilderStore((s) => (slot === 'base' ? s.draft.baseLoras : s.draft.loras[slot])) ?? NO_LORAS
  const edit = useBuilderStore((s) => s.edit)
  const [choosing, setChoosing] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)

  function onDrop(event: DragEvent): void {
    event.preventDefault()
    // the slot around this list takes model drops: a drop here is a LoRA
    event.stopPropagation()
    const dropped = droppedModel(event)
    if (dropped === null) return
    if ('problem' in dropped) return setProblem(dropped.problem)
    // files the library knows must be LoRAs; others (dropped from the computer) are checked in the pre-flight
    const known = useLibraryStore.getState().snapshot?.entries.find((e) => e.path === dropped.path)
    if (known && known.architecture !== 'lora') return setProblem(`${known.name} is no LoRA: drop it on a model slot, or drop a LoRA file here`)
    setProblem(null)
    edit((d) => addLoras(d, slot, [dropped.path]))
  }

  return (
    <div
      role="group"
      aria-label={`LoRAs on model ${slotName}`}
      className="mt-1 flex flex-col gap-1 pl-11"
      onDragOver={(e) => {
        if (!isModelDrag(e)) return
        e.preventDefault()
        e.stopPropagation()
        e.dataTransfer.dropEffect = 'copy'
      }}
      onDrop={onDrop}
    >
      {loras.map((lora, i) => (
        <LoraRow key={lora.path} lora={lora} index={i} slot={slot} slotName={slotName} />
      ))}
      {choosing ? (
        <LoraChooser
          slotName={slotName}
          attached={loras.map((l) => l.path)}
          onAttach={(paths) => {
            edit((d) => addLoras(d, slot, paths))
            setChoosing(false)
          }}
          onClose={() => setChoosing(false)}
        />
      ) : (
        <div>
          <Button size="sm" variant="ghost" aria-label={`Add LoRA to model ${slotName}…`} onClick={() => setChoosing(true)}>
            Add LoRA…
          </Button>
        </div>
      )}
      <InlineError error={problem} onDismiss={() => setProblem(null)} />
    </div>
  )
}

function blocksValue(blocks: LoraBlockWeights | undefined): string {
  if (blocks === undefined) return ALL_BLOCKS
  if (typeof blocks === 'string') return LORA_BLOCK_PRESETS.includes(blocks.trim().toUpperCase()) ? blocks.trim().toUpperCase() : CUSTOM_BLOCKS
  return CUSTOM_BLOCKS
}

function LoraRow({ lora, index, slot, slotName }: { lora: LoraApplication; index: number; slot: LoraSlot; slotName: string }) {
  const edit = useBuilderStore((s) => s.edit)
  const name = basename(lora.path)
  const blocks = blocksValue(lora.blocks)
  const blockOptions = [
    { value: ALL_BLOCKS, label: 'all blocks' },
    ...(blocks === CUSTOM_BLOCKS ? [{ value: CUSTOM_BLOCKS, label: `as loaded: ${JSON.stringify(lora.blocks)}` }] : []),
    ...LORA_BLOCK_PRESETS.map((p) => ({ value: p, label: p })),
  ]
  return (
    <div role="group" aria-label={`LoRA ${name} on model ${slotName}`} className="flex items-end gap-2 rounded border border-neutral-800 bg-neutral-950/60 px-2 py-1">
      <span className="min-w-0 flex-1 truncate pb-1 text-xs text-violet-200" title={lora.path}>
        {name}
      </span>
      <NumberSlider
        label={`Strength of ${name}`}
        value={lora.strength}
        range={STRENGTH_RANGE}
        onChange={(strength) => edit((d) => updateLora(d, slot, index, { strength }), `lora-strength:${String(slot)}:${lora.path}`)}
        className="w-52"
      />
      <SelectField
        label={`Block weights of ${name}`}
        hideLabel
        value={blocks}
        options={blockOptions}
        onChange={(v) => {
          if (v !== CUSTOM_BLOCKS) edit((d) => updateLora(d, slot, index, { blocks: v === ALL_BLOCKS ? undefined : v }))
        }}
        className="w-28"
      />
      <Button size="sm" variant="ghost" aria-label={`Remove LoRA ${name} from model ${slotName}`} onClick={() => edit((d) => removeLora(d, slot, index))}>
        Remove
      </Button>
    </div>
  )
}

/** Library LoRAs to tick, or a file to browse for; the choice is attached at strength 1. */
function LoraChooser({ slotName, attached, onAttach, onClose }: { slotName: string; attached: readonly string[]; onAttach(paths: string[]): void; onClose(): void }) {
  const entries = useLibraryStore((s) => s.snapshot?.entries)
  const [ticked, setTicked] = useState<ReadonlySet<string>>(new Set())
  const picker = usePathPicker()
  const available = (entries ?? []).filter((e) => e.architecture === 'lora' && e.status === 'ok' && !attached.includes(e.path))

  async function browse(): Promise<void> {
    const chosen = await picker.pick({ kind: 'file', title: `Choose a LoRA for model ${slotName}`, extensions: LORA_EXTENSIONS })
    if (chosen !== null) onAttach([chosen])
  }

  const toggle = (path: string, on: boolean): void =>
    setTicked((current) => {
      const next = new Set(current)
      if (on) next.add(path)
      else next.delete(path)
      return next
    })

  return (
    <div
      role="group"
      aria-label={`Choose LoRAs for model ${slotName}`}
      onKeyDown={(e) => {
        // keys from the file browser dialog bubble here through its portal: they are its own
        if (e.key === 'Escape' && e.target instanceof Node && e.currentTarget.contains(e.target)) onClose()
      }}
      className="flex flex-col gap-1 rounded border border-violet-900/70 bg-neutral-950 px-2 py-1.5">
      {available.length === 0 ? (
        <p className="text-[11px] text-neutral-500">No other LoRA in the library: browse for a file, or drop one here.</p>
      ) : (
        <ul className="flex max-h-40 flex-col gap-0.5 overflow-auto">
          {available.map((entry) => (
            <li key={entry.path}>
              <label className="flex items-center gap-1.5 text-xs text-neutral-200" title={entry.path}>
                <input type="checkbox" checked={ticked.has(entry.path)} onChange={(e) => toggle(entry.path, e.target.checked)} />
                {entry.name}
                {entry.lora && <span className="text-[11px] text-neutral-500">{entry.lora.baseArchitecture}{entry.lora.rank === null ? '' : `, rank ${entry.lora.rank}`}</span>}
              </label>
            </li>
          ))}
        </ul>
      )}
      <div className="flex gap-1.5">
        <Button size="sm" variant="primary" disabled={ticked.size === 0} onClick={() => onAttach([...ticked])}>
          Attach {ticked.size > 1 ? `${ticked.size} LoRAs` : 'LoRA'}
        </Button>
        <Button size="sm" onClick={() => void browse()}>
          Browse for a LoRA file…
        </Button>
        <Button size="sm" variant="ghost" onClick={onClose}>
          Cancel
        </Button>
      </div>
      <InlineError error={picker.error} />
      {picker.element}
    </div>
  )
}
