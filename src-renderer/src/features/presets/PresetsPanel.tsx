import { useEffect, useRef, useState } from 'react'
import type { Preset } from '../../../../src-main/common/ipc'
import { presetsFileText } from '../../../../src-main/common/presets-file'
import { call } from '../../app/call'
import { formatDate } from '../../app/format'
import { useAction } from '../../app/use-action'
import { Badge } from '../../ui/Badge'
import { Button } from '../../ui/Button'
import { TextField } from '../../ui/Field'
import { InlineError } from '../../ui/InlineError'
import { useBuilderStore } from '../builder/builder-store'
import { architectureLabel } from '../library/library-query'
import { usePresetsStore } from './presets-store'

/** Saved merge presets (whole recipes) and block presets: load, rename, delete, export and import. */
export function PresetsPanel() {
  const { presets, loaded, error, refresh } = usePresetsStore()
  const fileInput = useRef<HTMLInputElement>(null)
  const [imported, setImported] = useState<string | null>(null)
  const importAction = useAction((json: string) => call('presets.import', { json }))

  useEffect(() => {
    void refresh()
  }, [refresh])

  async function onImport(file: File): Promise<void> {
    setImported(null)
    const added = await importAction.run(await file.text())
    if (added === null) return
    setImported(`Imported ${added.length} preset${added.length === 1 ? '' : 's'} from ${file.name}.`)
    await refresh()
  }

  function exportAll(): void {
    const blob = new Blob([presetsFileText(presets)], { type: 'application/json' })
    const url = URL.createObjectURL(blob)
    const link = document.createElement('a')
    link.href = url
    link.download = 'amalgam-presets.json'
    link.click()
    // the download reads the blob after this handler returns
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
  }

  const merges = presets.filter((p) => p.kind === 'merge')
  const blocks = presets.filter((p) => p.kind === 'blocks')
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="flex shrink-0 flex-wrap items-center gap-2 border-b border-neutral-800 px-3 py-1.5">
        <Button size="sm" disabled={presets.length === 0} onClick={exportAll}>
          Export all…
        </Button>
        <Button size="sm" onClick={() => fileInput.current?.click()} disabled={importAction.pending}>
          Import…
        </Button>
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json"
          aria-label="Import presets file"
          className="sr-only"
          tabIndex={-1}
          onChange={(e) => {
            const file = e.target.files?.[0]
            e.target.value = ''
            if (file) void onImport(file)
          }}
        />
        {imported && (
          <span role="status" className="text-xs text-emerald-300">
            {imported}
          </span>
        )}
      </div>
      <div className="min-h-0 flex-1 overflow-auto px-3 py-2">
        <InlineError error={importAction.error ?? error} className="mb-2" />
        {loaded && presets.length === 0 && (
          <p className="text-xs text-neutral-400">No presets yet. Save one from the builder (“Save as preset”), or save block values from a parameter’s block editor.</p>
        )}
        {merges.length > 0 && <PresetList title="Merge presets" presets={merges} />}
        {blocks.length > 0 && <PresetList title="Block presets" presets={blocks} />}
      </div>
    </div>
  )
}

function PresetList({ title, presets }: { title: string; presets: Preset[] }) {
  return (
    <section aria-label={title} className="mb-3">
      <h3 className="mb-1 text-xs font-semibold tracking-wide text-neutral-400 uppercase">{title}</h3>
      <ul className="flex flex-col">
        {presets.map((p) => (
          <PresetRow key={p.id} preset={p} />
        ))}
      </ul>
    </section>
  )
}

function PresetRow({ preset }: { preset: Preset }) {
  const refresh = usePresetsStore((s) => s.refresh)
  const load = useBuilderStore((s) => s.load)
  const [renaming, setRenaming] = useState<string | null>(null)
  const [confirmDelete, setConfirmDelete] = useState(false)
  const rename = useAction((name: string) => call('presets.rename', { id: preset.id, name }))
  const remove = useAction(() => call('presets.delete', { id: preset.id }))

  async function onRename(): Promise<void> {
    if (renaming === null) return
    if ((await rename.run(renaming.trim())) === null) return
    setRenaming(null)
    await refresh()
  }

  return (
    <li className="border-b border-neutral-800/70 py-1">
      <div className="flex items-center gap-2">
        {renaming === null ? (
          <span className="min-w-0 flex-1 truncate text-[13px]">{preset.name}</span>
        ) : (
          <form
            className="flex min-w-0 flex-1 gap-1"
            onSubmit={(e) => {
              e.preventDefault()
              void onRename()
            }}
          >
            <TextField label={`New name for ${preset.name}`} hideLabel className="min-w-0 flex-1" value={renaming} onChange={setRenaming} autoFocus />
            <Button size="sm" type="submit" disabled={renaming.trim() === ''}>
              Save
            </Button>
            <Button size="sm" variant="ghost" onClick={() => setRenaming(null)}>
              Cancel
            </Button>
          </form>
        )}
        {preset.kind === 'merge' ? (
          <Badge tone="info">{preset.recipe.merge.method}</Badge>
        ) : (
          <Badge tone="accent">
            {architectureLabel(preset.architecture)} · {preset.convention.name}
          </Badge>
        )}
        <span className="text-[11px] text-neutral-500">{formatDate(preset.updatedAt)}</span>
      </div>
      {renaming === null && (
        <div className="mt-0.5 flex items-center gap-1">
          {preset.kind === 'merge' && (
            <Button size="sm" aria-label={`Load preset ${preset.name} into the builder`} onClick={() => load(preset.recipe, `Loaded the merge preset “${preset.name}”.`)}>
              Load
            </Button>
          )}
          {preset.kind === 'blocks' && <span className="text-[11px] text-neutral-500">{Object.keys(preset.values).length} block values; apply it from a parameter’s block editor.</span>}
          <span className="flex-1" />
          <Button size="sm" variant="ghost" aria-label={`Rename preset ${preset.name}`} onClick={() => setRenaming(preset.name)}>
            Rename
          </Button>
          {confirmDelete ? (
            <>
              <Button
                size="sm"
                variant="danger"
                aria-label={`Confirm deleting preset ${preset.name}`}
                onClick={async () => {
                  if ((await remove.run()) !== null) await refresh()
                }}
              >
                Delete for good
              </Button>
              <Button size="sm" variant="ghost" onClick={() => setConfirmDelete(false)}>
                Keep
              </Button>
            </>
          ) : (
            <Button size="sm" variant="ghost" aria-label={`Delete preset ${preset.name}`} onClick={() => setConfirmDelete(true)}>
              Delete
            </Button>
          )}
        </div>
      )}
      <InlineError error={rename.error ?? remove.error} className="mt-1" />
    </li>
  )
}
