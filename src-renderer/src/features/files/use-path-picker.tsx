import { useState, type ReactNode } from 'react'
import { call, type CallError } from '../../app/call'
import { useIsDesktop } from '../status/status-store'
import { FileBrowserDialog } from './FileBrowserDialog'

export interface PickRequest {
  kind: 'folder' | 'file'
  title: string
  /** extensions without dots, for the native dialog */
  extensions?: string[]
  startPath?: string
}

interface PathPicker {
  /** resolves to the chosen path, or null when the user cancelled or the dialog failed (see `error`) */
  pick(request: PickRequest): Promise<string | null>
  /** render this where the picker is used: the in-page browser when it is open */
  element: ReactNode
  error: CallError | null
}

/** Choosing a path: the native dialog in the desktop app, the server-side file browser in browser mode. */
export function usePathPicker(): PathPicker {
  const desktop = useIsDesktop()
  const [pending, setPending] = useState<{ request: PickRequest; resolve(path: string | null): void } | null>(null)
  const [error, setError] = useState<CallError | null>(null)

  async function pick(request: PickRequest): Promise<string | null> {
    setError(null)
    if (desktop) {
      const result = await call('dialog.open', { kind: request.kind === 'folder' ? 'folder' : 'files', title: request.title, ...(request.extensions ? { extensions: request.extensions } : {}) })
      if (!result.ok) {
        setError(result.error)
        return null
      }
      return result.value.paths[0] ?? null
    }
    return new Promise((resolve) => setPending({ request, resolve }))
  }

  const finish = (path: string | null): void => {
    pending?.resolve(path)
    setPending(null)
  }
  const element = pending ? (
    <FileBrowserDialog
      title={pending.request.title}
      pick={pending.request.kind}
      {...(pending.request.startPath ? { startPath: pending.request.startPath } : {})}
      onPick={finish}
      onClose={() => finish(null)}
    />
  ) : null
  return { pick, element, error }
}
