import { create } from 'zustand'
import type { MethodInfo } from '../../../../src-main/common/method-info'
import { call, type CallError } from '../../app/call'
import { resolveMethod, type ResolvedMethod } from './resolve-method'

interface MethodsState {
  methods: MethodInfo[]
  error: CallError | null
  load(): Promise<void>
}

export const useMethodsStore = create<MethodsState>()((set) => ({
  methods: [],
  error: null,
  async load() {
    const result = await call('methods.list', {})
    if (result.ok) set({ methods: result.value, error: null })
    else set({ error: result.error })
  },
}))

export function useResolvedMethod(name: string): ResolvedMethod | null {
  const methods = useMethodsStore((s) => s.methods)
  return resolveMethod(methods, name)
}
