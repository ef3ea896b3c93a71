import { create } from 'zustand'
import type { AppStatus, Settings } from '../../../../src-main/common/ipc'
import type { Result } from '../../../../src-main/common/ipc'
import { call, type CallError } from '../../app/call'

interface StatusState {
  status: AppStatus | null
  settings: Settings | null
  error: CallError | null
  load(): Promise<void>
  updateSettings(patch: Partial<Settings>): Promise<Result<Settings>>
}

/** app.status and the settings: read once at start; the mode decides dialogs vs the in-page file browser. */
export const useStatusStore = create<StatusState>()((set) => ({
  status: null,
  settings: null,
  error: null,
  async load() {
    const [status, settings] = await Promise.all([call('app.status', {}), call('settings.get', {})])
    set({
      status: status.ok ? status.value : null,
      settings: settings.ok ? settings.value : null,
      error: !status.ok ? status.error : !settings.ok ? settings.error : null,
    })
  },
  async updateSettings(patch) {
    const result = await call('settings.update', patch)
    if (result.ok) set({ settings: result.value })
    return result
  },
}))

/** Native dialogs, OS drag-and-drop and "reveal in folder" exist only in the desktop app. */
export function useIsDesktop(): boolean {
  return useStatusStore((s) => s.status?.mode === 'electron')
}
