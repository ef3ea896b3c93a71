import { useEffect } from 'react'
import { create } from 'zustand'
import type { ArchitectureInfo, InvokeRequest } from '../../../../src-main/common/ipc'
import { isModelInput } from '../../../../src-main/common/recipe'
import { call, type CallError } from '../../app/call'
import { useLibraryStore } from '../library/library-store'
import { useBuilderStore } from './builder-store'

type Request = InvokeRequest<'architecture.info'>
type Entry = { status: 'loading' } | { status: 'ok'; info: ArchitectureInfo } | { status: 'error'; error: CallError }

interface ArchitectureState {
  cache: Record<string, Entry>
  fetch(request: Request): void
}

const keyOf = (request: Request): string => JSON.stringify([request.architecture, request.convention?.name, request.convention?.version, request.layers])

/** architecture.info answers, cached per request: the block list does not change while the app runs. */
export const useArchitectureStore = create<ArchitectureState>()((set, get) => ({
  cache: {},
  fetch(request) {
    const key = keyOf(request)
    if (get().cache[key]) return
    set((s) => ({ cache: { ...s.cache, [key]: { status: 'loading' } } }))
    void call('architecture.info', request).then((result) =>
      set((s) => ({ cache: { ...s.cache, [key]: result.ok ? { status: 'ok', info: result.value } : { status: 'error', error: result.error } } })),
    )
  },
}))

/** architecture.info for a request (null: nothing to ask yet); fetched on first use. */
export function useArchitectureInfo(request: Request | null): Entry | null {
  const key = request ? keyOf(request) : null
  const entry = useArchitectureStore((s) => (key === null ? undefined : s.cache[key]))
  const fetch = useArchitectureStore((s) => s.fetch)
  useEffect(() => {
    if (request) fetch(request)
    // the key captures everything the request holds
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, fetch])
  return entry ?? (request ? { status: 'loading' } : null)
}

/** Architectures that have blocks to edit (a LoRA or a lone VAE does not). */
const BLOCK_ARCHITECTURES = new Set(['sd1', 'sd2', 'sdxl', 'sdxl-refiner', 'sd3', 'flux', 'llm'])

/**
 * The builder's architecture request: from the first chosen model the library knows (a's, usually),
 * with the recipe's block convention and, for LLMs, the layer count.
 */
export function useBuilderArchitectureRequest(): { request: Request | null; reason: string | null } {
  const inputs = useBuilderStore((s) => s.draft.inputs)
  const base = useBuilderStore((s) => s.draft.base)
  const convention = useBuilderStore((s) => s.draft.blocks)
  const entries = useLibraryStore((s) => s.snapshot?.entries)
  const paths = [...inputs, base].flatMap((input) => (input !== null && isModelInput(input) ? [input.model] : []))
  if (paths.length === 0) return { request: null, reason: 'Choose model a to edit values per block.' }
  const entry = paths.map((p) => entries?.find((e) => e.path === p)).find((e) => e !== undefined)
  if (!entry) return { request: null, reason: 'The chosen models are not in the library, so their architecture is not known yet.' }
  if (!BLOCK_ARCHITECTURES.has(entry.architecture)) return { request: null, reason: `${entry.name} is a ${entry.architecture} file: it has no blocks to weight.` }
  return {
    request: {
      architecture: entry.architecture,
      ...(convention ? { convention } : {}),
      ...(entry.llm ? { layers: entry.llm.layers } : {}),
    },
    reason: null,
  }
}
