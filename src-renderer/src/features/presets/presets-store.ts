import { create } from 'zustand'
import type { Preset } from '../../../../src-main/common/ipc'
import { call, type CallError } from '../../app/call'

interface PresetsState {
  presets: Preset[]
  loaded: boolean
  error: CallError | null
  refresh(): Promise<void>
}

/** Saved merge and block presets, as main keeps them; views refresh after each change they make. */
export const usePresetsStore = create<PresetsState>()((set) => ({
  presets: [],
  loaded: false,
  error: null,
  async refresh() {
    const result = await call('presets.list', {})
    if (result.ok) set({ presets: result.value, loaded: true, error: null })
    else set({ error: result.error })
  },
}))
