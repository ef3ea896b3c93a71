import { useState } from 'react'
import { OutputDType } from '../../../../src-main/common/recipe'
import type { CallError } from '../../app/call'
import { Button } from '../../ui/Button'
import { SelectField, Switch, TextField } from '../../ui/Field'
import { InlineError } from '../../ui/InlineError'
import { NumberInput } from '../../ui/NumberInput'
import { usePathPicker } from '../files/use-path-picker'
import { useStatusStore } from '../status/status-store'
import { useBuilderStore } from './builder-store'
import { outputFileName } from './draft'
import { useResolvedMethod } from './methods-store'

const DTYPE_LABELS: Readonly<Record<OutputDType, string>> = {
  auto: 'auto (as the inputs)',
  fp32: 'fp32',
  fp16: 'fp16',
  bf16: 'bf16',
  fp8_e4m3: 'fp8 (e4m3)',
  fp8_e5m2: 'fp8 (e5m2)',
}

/** Where the merge is written and how: name, folder, dtype, embedded recipe, seed. */
export function OutputSettings() {
  const output = useBuilderStore((s) => s.draft.output)
  const seed = useBuilderStore((s) => s.draft.seed)
  const method = useBuilderStore((s) => s.draft.method)
  const edit = useBuilderStore((s) => s.edit)
  const updateSettings = useStatusStore((s) => s.updateSettings)
  const seeded = useResolvedMethod(method)?.info.randomness === 'seeded'
  const picker = usePathPicker()
  const [rememberError, setRememberError] = useState<CallError | null>(null)
  const setOutput = (patch: Partial<typeof output>, key?: string): void => edit((d) => ({ ...d, output: { ...d.output, ...patch } }), key)

  async function chooseFolder(): Promise<void> {
    const folder = await picker.pick({ kind: 'folder', title: 'Choose the output folder', ...(output.folder ? { startPath: output.folder } : {}) })
    if (folder === null) return
    setOutput({ folder })
    // the next merge starts in the same folder
    const remembered = await updateSettings({ outputFolder: folder })
    setRememberError(remembered.ok ? null : remembered.error)
  }

  return (
    <div className="flex flex-col gap-2">
      <div className="flex items-end gap-2">
        <TextField
          label="Output name"
          className="min-w-0 flex-1"
          value={output.name}
          placeholder="my-merge"
          spellCheck={false}
          hint={output.name.trim() ? `writes ${outputFileName(output.name)}` : undefined}
          onChange={(name) => setOutput({ name }, 'output-name')}
        />
        <SelectField
          label="Output dtype"
          value={output.dtype}
          options={OutputDType.options.map((d) => ({ value: d, label: DTYPE_LABELS[d] }))}
          onChange={(dtype) => setOutput({ dtype: OutputDType.parse(dtype) })}
        />
      </div>
      <div className="flex items-end gap-2">
        <TextField label="Output folder" className="min-w-0 flex-1" inputClassName="font-mono text-xs" spellCheck={false} value={output.folder} onChange={(folder) => setOutput({ folder }, 'output-folder')} />
        <Button onClick={() => void chooseFolder()}>Choose…</Button>
      </div>
      <InlineError error={picker.error} />
      <InlineError error={rememberError && `The folder is set for this merge, but could not be remembered for the next one: ${rememberError.message}`} onDismiss={() => setRememberError(null)} />
      <Switch
        label="Embed the recipe in the file"
        description="Writes this recipe and sd_merge_recipe into the file’s metadata so the merge can be traced and redone. Turn off for private merges."
        checked={output.embedRecipe}
        onChange={(embedRecipe) => setOutput({ embedRecipe })}
      />
      {seeded && (
        <div className="flex items-center gap-2">
          <span className="text-[13px]">Seed</span>
          <NumberInput label="Seed" value={seed} min={0} integer step={1} className="w-32" onChange={(s) => edit((d) => ({ ...d, seed: s }), 'seed')} />
          <span className="text-[11px] text-neutral-500">This method is random; the same seed gives the same result.</span>
        </div>
      )}
      {picker.element}
    </div>
  )
}
