import { useMemo } from 'react'
import { call } from '../../app/call'
import { useAction } from '../../app/use-action'
import { Button } from '../../ui/Button'
import { InlineError } from '../../ui/InlineError'
import { ProgressBar } from '../../ui/ProgressBar'
import { basename } from '../../app/paths'
import { EmptyLibrary } from './EmptyLibrary'
import { FolderBar } from './FolderBar'
import { LibraryFilters } from './LibraryFilters'
import { LibraryTable } from './LibraryTable'
import { queryLibrary } from './library-query'
import { useLibraryStore } from './library-store'

/** Folders, search and filters, the models table, and scan/hash progress. */
export function LibraryPanel() {
  const snapshot = useLibraryStore((s) => s.snapshot)
  const loadError = useLibraryStore((s) => s.loadError)
  const query = useLibraryStore((s) => s.query)
  const progress = useLibraryStore((s) => s.progress)
  const snapshotAt = useLibraryStore((s) => s.snapshotAt)
  const hashAll = useAction((paths: string[]) => call('library.hash', { paths }))
  const entries = snapshot?.entries
  const rows = useMemo(() => queryLibrary(entries ?? [], query, snapshotAt), [entries, query, snapshotAt])
  const unhashed = (entries ?? []).filter((e) => e.status === 'ok' && e.hashes.sha256 === null).map((e) => e.path)
  const empty = snapshot !== null && snapshot.entries.length === 0 && !snapshot.scanning

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <FolderBar />
      <InlineError error={loadError} className="mx-3 my-1" />
      {progress && (
        <div className="flex flex-col gap-0.5 border-b border-neutral-800 px-3 py-1">
          <span className="text-[11px] text-neutral-400">
            {progress.phase === 'scanning' ? 'Scanning' : 'Hashing'} {progress.done} of {progress.total}
            {progress.current && `: ${basename(progress.current)}`}
          </span>
          <ProgressBar label={progress.phase === 'scanning' ? 'Library scan' : 'Hashing'} value={progress.done} total={progress.total} />
        </div>
      )}
      {empty ? (
        <EmptyLibrary hasFolders={snapshot.folders.length > 0} />
      ) : (
        <>
          <LibraryFilters />
          <div className="flex items-center gap-2 px-3 py-1 text-[11px] text-neutral-500">
            <span className="flex-1" role="status">
              {snapshot === null ? 'Loading the library…' : `${rows.length} of ${snapshot.entries.length} models${snapshot.scanning ? ' (scanning…)' : ''}`}
            </span>
            {unhashed.length > 0 && (
              <Button size="sm" variant="ghost" disabled={hashAll.pending} onClick={() => void hashAll.run(unhashed)} title="Full-file SHA-256 for AutoV2 short hashes, in the background">
                Hash {unhashed.length} model{unhashed.length === 1 ? '' : 's'}
              </Button>
            )}
          </div>
          <InlineError error={hashAll.error} className="mx-3 mb-1" />
          <LibraryTable rows={rows} />
        </>
      )}
    </div>
  )
}
