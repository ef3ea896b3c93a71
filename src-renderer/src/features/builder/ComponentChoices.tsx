import type { ComponentChoice } from '../../../../src-main/common/recipe'
import { basename } from '../../app/paths'
import { Button } from '../../ui/Button'
import { SelectField } from '../../ui/Field'
import { InlineError } from '../../ui/InlineError'
import { usePathPicker } from '../files/use-path-picker'
import { useArchitectureInfo, useBuilderArchitectureRequest } from './architecture-store'
import { useBuilderStore } from './builder-store'
import { roleName } from './draft'

const COMPONENT_LABELS: Readonly<Record<string, string>> = {
  unet: 'UNet',
  transformer: 'transformer',
  clip_l: 'CLIP-L text encoder',
  clip_g: 'CLIP-G text encoder',
  openclip_h: 'OpenCLIP-H text encoder',
  t5: 'T5 text encoder',
  vae: 'VAE',
  ema: 'EMA weights',
  scheduler: 'scheduler buffers',
  leftovers: 'other keys',
  llm: 'language model',
}

function choiceValue(choice: ComponentChoice | undefined): string {
  if (choice === undefined || choice === 'merge') return 'merge'
  if (choice === 'drop') return 'drop'
  return 'take' in choice ? `take:${choice.take}` : 'file'
}

/** Per component of the architecture: merge it, take it from one input, drop it, or (VAE) bake one in from a file. */
export function ComponentChoices() {
  const { request, reason } = useBuilderArchitectureRequest()
  const arch = useArchitectureInfo(request)
  const components = useBuilderStore((s) => s.draft.components)
  const inputCount = useBuilderStore((s) => s.draft.inputs.length)
  const edit = useBuilderStore((s) => s.edit)
  const picker = usePathPicker()
  if (arch === null) return <p className="text-xs text-neutral-500">{reason}</p>
  if (arch.status === 'loading') return <p className="text-xs text-neutral-500">Loading components…</p>
  if (arch.status === 'error') return <InlineError error={arch.error} />

  const setChoice = (id: string, choice: ComponentChoice): void =>
    edit((d) => {
      const next = { ...d.components }
      if (choice === 'merge') delete next[id]
      else next[id] = choice
      return { ...d, components: next }
    })

  async function chooseFile(id: string): Promise<void> {
    const path = await picker.pick({ kind: 'file', title: `Choose a ${COMPONENT_LABELS[id] ?? id} file`, extensions: ['safetensors', 'ckpt', 'pt'] })
    if (path !== null) setChoice(id, { file: path })
  }

  return (
    <div className="grid grid-cols-2 gap-x-3 gap-y-1.5">
      {arch.info.components.map((id) => {
        const choice = components[id]
        const current = choiceValue(choice)
        const label = COMPONENT_LABELS[id] ?? id
        return (
          <div key={id} className="flex flex-col gap-0.5">
            <SelectField
              label={label}
              value={current}
              options={[
                { value: 'merge', label: 'merge' },
                ...Array.from({ length: inputCount }, (_, i) => ({ value: `take:${i}`, label: `take from ${roleName(i)}` })),
                { value: 'drop', label: 'drop (leave out of the file)' },
                ...(id === 'vae' ? [{ value: 'file', label: 'from a file…' }] : []),
              ]}
              onChange={(v) => {
                if (v === 'merge' || v === 'drop') setChoice(id, v)
                else if (v === 'file') void chooseFile(id)
                else setChoice(id, { take: Number(v.slice('take:'.length)) })
              }}
            />
            {typeof choice === 'object' && 'file' in choice && (
              <span className="flex items-center gap-1 text-[11px] text-neutral-400">
                <span className="truncate" title={choice.file}>
                  {basename(choice.file)}
                </span>
                <Button size="sm" variant="ghost" aria-label={`Choose another ${label} file`} onClick={() => void chooseFile(id)}>
                  Change…
                </Button>
              </span>
            )}
          </div>
        )
      })}
      <InlineError error={picker.error} className="col-span-2" />
      {picker.element}
    </div>
  )
}
