import { useCallback, useEffect, useRef, useState } from 'react'
import type { FileListing } from '../../../../src-main/common/ipc'
import { call, type CallError } from '../../app/call'
import { formatBytes } from '../../app/format'
import { Badge } from '../../ui/Badge'
import { Button } from '../../ui/Button'
import { Dialog } from '../../ui/Dialog'
import { inputClass } from '../../ui/Field'
import { InlineError } from '../../ui/InlineError'
import { cx } from '../../ui/cx'

export interface FileBrowserProps {
  title: string
  /** folder: choose the folder being shown; file: choose a checkpoint file (or a model folder) */
  pick: 'folder' | 'file'
  /** where to start; main's default (the home folder) when absent */
  startPath?: string
  onPick(path: string): void
  onClose(): void
}

/**
 * The server-side file browser of browser mode (`amalgam serve`): a page cannot open native dialogs
 * or learn local paths, so main lists folders (files.list) and the user walks them here.
 */
export function FileBrowserDialog({ title, pick, startPath, onPick, onClose }: FileBrowserProps) {
  const [listing, setListing] = useState<FileListing | null>(null)
  const [error, setError] = useState<CallError | null>(null)
  /** what the user typed in the path field; null shows the listed folder */
  const [typed, setTyped] = useState<string | null>(null)
  // only the newest request may fill the list: a slow first listing must not replace the folder the user went to
  const latest = useRef(0)

  /** `typing`: keep what the user is typing (the first listing may arrive after they started) */
  const list = useCallback((path: string | undefined, typing = false): void => {
    const request = ++latest.current
    void call('files.list', path === undefined ? {} : { path }).then((result) => {
      if (request !== latest.current) return
      if (result.ok) {
        setListing(result.value)
        if (!typing) setTyped(null)
        setError(null)
      } else setError(result.error)
    })
  }, [])

  useEffect(() => list(startPath, true), [list, startPath])

  const entries = listing?.entries.filter((e) => pick === 'file' || e.kind === 'dir') ?? []
  return (
    <Dialog
      title={title}
      onClose={onClose}
      className="h-[70vh] w-[640px]"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          {pick === 'folder' && (
            <Button variant="primary" disabled={!listing} onClick={() => listing && onPick(listing.path)}>
              Choose this folder
            </Button>
          )}
        </>
      }
    >
      <form
        className="mb-2 flex gap-1"
        onSubmit={(e) => {
          e.preventDefault()
          list(typed?.trim() || undefined)
        }}
      >
        <input aria-label="Folder path" className={cx(inputClass, 'min-w-0 flex-1 font-mono text-xs')} value={typed ?? listing?.path ?? ''} onChange={(e) => setTyped(e.target.value)} />
        <Button type="submit">Go</Button>
        <Button disabled={!listing?.parent} onClick={() => listing?.parent && list(listing.parent)}>
          Up
        </Button>
      </form>
      <InlineError error={error} className="mb-2" />
      {listing && (
        <ul aria-label={`Contents of ${listing.path}`} className="flex flex-col">
          {entries.length === 0 && <li className="px-1 py-2 text-xs text-neutral-500">{pick === 'folder' ? 'No subfolders.' : 'Nothing here.'}</li>}
          {entries.map((entry) => {
            const choosable = pick === 'file' && entry.checkpoint
            return (
              <li key={entry.path} className="flex items-center gap-2 border-b border-neutral-800/70 px-1 py-0.5">
                <span aria-hidden className="w-4 text-center text-neutral-500">
                  {entry.kind === 'dir' ? '▸' : '·'}
                </span>
                {entry.kind === 'dir' ? (
                  <button type="button" className="min-w-0 flex-1 truncate text-left text-neutral-200 hover:underline" aria-label={`Open folder ${entry.name}`} onClick={() => list(entry.path)}>
                    {entry.name}
                  </button>
                ) : (
                  <span className={cx('min-w-0 flex-1 truncate', entry.checkpoint ? 'text-neutral-200' : 'text-neutral-500')}>{entry.name}</span>
                )}
                {entry.checkpoint && <Badge tone="info">{entry.kind === 'dir' ? 'model folder' : 'checkpoint'}</Badge>}
                {entry.size !== null && <span className="w-20 text-right text-xs text-neutral-500 tabular-nums">{formatBytes(entry.size)}</span>}
                {choosable && (
                  <Button size="sm" aria-label={`Choose ${entry.name}`} onClick={() => onPick(entry.path)}>
                    Choose
                  </Button>
                )}
              </li>
            )
          })}
        </ul>
      )}
    </Dialog>
  )
}
