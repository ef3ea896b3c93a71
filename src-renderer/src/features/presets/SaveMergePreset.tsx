import { useState } from 'react'
import { call } from '../../app/call'
import { useAction } from '../../app/use-action'
import { Button } from '../../ui/Button'
import { TextField } from '../../ui/Field'
import { InlineError } from '../../ui/InlineError'
import { useCurrentRecipe } from '../preflight/preflight-store'
import type { Recipe } from '../../../../src-main/common/recipe'
import { usePresetsStore } from './presets-store'

/** Saves the whole recipe under a name, to load back later from the Presets tab. */
export function SaveMergePreset() {
  const current = useCurrentRecipe()
  const refresh = usePresetsStore((s) => s.refresh)
  const [name, setName] = useState('')
  const [saved, setSaved] = useState<string | null>(null)
  const save = useAction((recipe: Recipe, presetName: string) => call('presets.save', { preset: { kind: 'merge', name: presetName, recipe } }))
  async function onSave(): Promise<void> {
    if (!current.ok) return
    const preset = await save.run(current.recipe, name.trim())
    if (!preset) return
    setSaved(preset.name)
    setName('')
    await refresh()
  }
  return (
    <form
      className="flex flex-wrap items-end gap-2"
      onSubmit={(e) => {
        e.preventDefault()
        void onSave()
      }}
    >
      <TextField label="Merge preset name" className="w-56" value={name} onChange={setName} />
      <Button type="submit" disabled={!current.ok || name.trim() === '' || save.pending}>
        Save merge preset
      </Button>
      {!current.ok && <span className="text-[11px] text-neutral-500">A preset holds a complete recipe: finish it first.</span>}
      {saved && (
        <span role="status" className="text-xs text-emerald-300">
          Saved “{saved}”.
        </span>
      )}
      <InlineError error={save.error} className="w-full" />
    </form>
  )
}
