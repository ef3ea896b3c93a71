import { useState } from 'react'
import { call } from '../../app/call'
import { basename } from '../../app/paths'
import { useAction } from '../../app/use-action'
import { Button } from '../../ui/Button'
import { InlineError } from '../../ui/InlineError'
import { usePathPicker } from '../files/use-path-picker'
import { useLibraryStore } from './library-store'

/** The library's folders: add (native dialog or the in-page browser), remove, rescan. */
export function FolderBar() {
  const snapshot = useLibraryStore((s) => s.snapshot)
  const folders = snapshot?.folders ?? []
  const scanning = snapshot?.scanning ?? false
  const setSnapshot = useLibraryStore((s) => s.setSnapshot)
  const picker = usePathPicker()
  const [open, setOpen] = useState(false)
  const add = useAction((path: string) => call('library.addFolder', { path }))
  const remove = useAction((path: string) => call('library.removeFolder', { path }))
  const rescan = useAction(() => call('library.rescan', {}))

  async function onAdd(): Promise<void> {
    const path = await picker.pick({ kind: 'folder', title: 'Add a folder to the library' })
    if (path === null) return
    const snapshot = await add.run(path)
    if (snapshot) setSnapshot(snapshot)
  }

  return (
    <div className="flex flex-col gap-1 border-b border-neutral-800 px-3 py-1.5">
      <div className="flex items-center gap-2">
        <button type="button" className="min-w-0 flex-1 truncate text-left text-xs text-neutral-400 hover:text-neutral-200" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? '▾' : '▸'} {folders.length === 0 ? 'No library folders' : `${folders.length} folder${folders.length === 1 ? '' : 's'}: ${folders.map((f) => basename(f)).join(', ')}`}
        </button>
        <Button size="sm" onClick={() => void onAdd()} disabled={add.pending}>
          Add folder…
        </Button>
        <Button
          size="sm"
          disabled={folders.length === 0 || scanning || rescan.pending}
          onClick={async () => {
            const snapshot = await rescan.run()
            if (snapshot) setSnapshot(snapshot)
          }}
        >
          {scanning ? 'Scanning…' : 'Rescan'}
        </Button>
      </div>
      {open && (
        <ul aria-label="Library folders" className="flex flex-col gap-0.5">
          {folders.map((folder) => (
            <li key={folder} className="flex items-center gap-2 text-xs">
              <code className="min-w-0 flex-1 truncate text-neutral-300" title={folder}>
                {folder}
              </code>
              <Button
                size="sm"
                variant="ghost"
                aria-label={`Remove folder ${folder} from the library`}
                onClick={async () => {
                  const snapshot = await remove.run(folder)
                  if (snapshot) setSnapshot(snapshot)
                }}
              >
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      <InlineError error={add.error ?? remove.error ?? rescan.error ?? picker.error} />
      {picker.element}
    </div>
  )
}
