import { useState, type DragEvent } from 'react'
import { isModelInput, type Input } from '../../../../src-main/common/recipe'
import { Badge } from '../../ui/Badge'
import { Button } from '../../ui/Button'
import { InlineError } from '../../ui/InlineError'
import { cx } from '../../ui/cx'
import { usePathPicker } from '../files/use-path-picker'
import { architectureLabel } from '../library/library-query'
import { useEntryByPath } from '../library/library-store'
import { useBuilderStore } from './builder-store'
import { inputLabel, roleName } from './draft'
import { addSlot, removeSlot, setInput, type LoraSlot } from './draft-edits'
import { LoraAttachments } from './LoraAttachments'
import { droppedModel, isModelDrag } from './model-drag'
import { useResolvedMethod } from './methods-store'

const CHECKPOINT_EXTENSIONS = ['safetensors', 'ckpt', 'pt']

/** Input slots a, b, c… (and base), as the method's input spec asks; filled from the library, by drop or by browsing. */
export function InputSlots() {
  const inputs = useBuilderStore((s) => s.draft.inputs)
  const base = useBuilderStore((s) => s.draft.base)
  const method = useBuilderStore((s) => s.draft.method)
  const edit = useBuilderStore((s) => s.edit)
  const resolved = useResolvedMethod(method)
  const info = resolved?.info
  const canAdd = info !== undefined && (info.inputs.max === null || inputs.length < info.inputs.max)
  return (
    <div className="flex flex-col gap-1.5">
      {inputs.map((input, i) => (
        <Slot
          key={i}
          slot={roleName(i)}
          loraSlot={i}
          role={info?.inputs.roles[Math.min(i, info.inputs.roles.length - 1)] ?? ''}
          input={input}
          onChange={(next) => edit((d) => setInput(d, i, next))}
          {...(info && inputs.length > info.inputs.min ? { onRemove: () => edit((d) => removeSlot(d, i, info)) } : {})}
        />
      ))}
      {info && info.inputs.base !== 'none' && (
        <Slot
          slot="base"
          loraSlot="base"
          role={`${info.inputs.baseRole ?? 'the common ancestor'}${info.inputs.base === 'optional' ? ' (optional)' : ''}`}
          input={base}
          onChange={(next) => edit((d) => ({ ...d, base: next }))}
        />
      )}
      {canAdd && info && (
        <div>
          <Button size="sm" onClick={() => edit((d) => addSlot(d, info))}>
            + Add model {roleName(inputs.length)}
          </Button>
        </div>
      )}
    </div>
  )
}

function Slot({ slot, loraSlot, role, input, onChange, onRemove }: { slot: string; loraSlot: LoraSlot; role: string; input: Input | null; onChange(input: Input | null): void; onRemove?: () => void }) {
  const [over, setOver] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)
  const picker = usePathPicker()
  const path = input !== null && isModelInput(input) ? input.model : null
  const entry = useEntryByPath(path)

  function onDrop(event: DragEvent): void {
    event.preventDefault()
    setOver(false)
    const dropped = droppedModel(event)
    if (dropped === null) return
    if ('problem' in dropped) setProblem(dropped.problem)
    else {
      setProblem(null)
      onChange({ model: dropped.path })
    }
  }

  async function browse(): Promise<void> {
    const chosen = await picker.pick({ kind: 'file', title: `Choose model ${slot}`, extensions: CHECKPOINT_EXTENSIONS })
    if (chosen !== null) onChange({ model: chosen })
  }

  return (
    <div
      role="group"
      aria-label={`Model ${slot}`}
      onDragOver={(e) => {
        if (!isModelDrag(e)) return
        e.preventDefault()
        e.dataTransfer.dropEffect = 'copy'
        setOver(true)
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      className={cx('rounded border px-2 py-1.5', over ? 'border-sky-500 bg-sky-950/40' : input === null ? 'border-dashed border-neutral-700' : 'border-neutral-800 bg-neutral-900')}
    >
      <div className="flex items-center gap-2">
        <span className="w-9 shrink-0 text-xs font-semibold text-sky-300 uppercase">{slot}</span>
        <div className="min-w-0 flex-1">
          {input === null ? (
            <span className="text-xs text-neutral-500">Empty: drop a library row here, use “{slot}” in the library, or browse.</span>
          ) : (
            <span className="flex min-w-0 items-center gap-1.5">
              <span className="truncate text-[13px] text-neutral-100" title={path ?? undefined}>
                {inputLabel(input)}
              </span>
              {entry && <Badge tone="info">{architectureLabel(entry.architecture)}</Badge>}
              {entry && entry.status !== 'ok' && <Badge tone="bad">{entry.status}</Badge>}
              {path !== null && !entry && <Badge tone="warn" title="Not in a library folder: its checks happen in the pre-flight">not in library</Badge>}
            </span>
          )}
          <span className="block truncate text-[11px] text-neutral-500">{role}</span>
        </div>
        <Button size="sm" aria-label={`Browse for model ${slot}`} onClick={() => void browse()}>
          Browse…
        </Button>
        {input !== null && (
          <Button size="sm" variant="ghost" aria-label={`Clear model ${slot}`} onClick={() => onChange(null)}>
            Clear
          </Button>
        )}
        {onRemove && (
          <Button size="sm" variant="ghost" aria-label={`Remove slot ${slot}`} onClick={onRemove}>
            Remove
          </Button>
        )}
      </div>
      {input !== null && <LoraAttachments slot={loraSlot} slotName={slot} />}
      <InlineError error={problem} onDismiss={() => setProblem(null)} className="mt-1" />
      <InlineError error={picker.error} className="mt-1" />
      {picker.element}
    </div>
  )
}
