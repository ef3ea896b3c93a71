import { useEffect, useMemo } from 'react'
import { create } from 'zustand'
import type { PlanSummary } from '../../../../src-main/common/plan-summary'
import type { Recipe } from '../../../../src-main/common/recipe'
import { call, type CallError } from '../../app/call'
import { useBuilderStore } from '../builder/builder-store'
import { recipeFromDraft, type DraftToRecipe } from '../builder/draft'
import { useMethodsStore } from '../builder/methods-store'

/** Edits come in bursts (slider drags, typing): the planner is asked once they settle. */
const DEBOUNCE_MS = 350

interface PreflightState {
  /** the recipe (as canonical JSON) the plan or error below belongs to */
  key: string | null
  plan: PlanSummary | null
  error: CallError | null
  checking: boolean
  schedule(key: string, recipe: Recipe): void
  clear(): void
}

let timer: ReturnType<typeof setTimeout> | null = null

export const usePreflightStore = create<PreflightState>()((set, get) => ({
  key: null,
  plan: null,
  error: null,
  checking: false,
  schedule(key, recipe) {
    if (timer) clearTimeout(timer)
    set({ key, plan: null, error: null, checking: true })
    timer = setTimeout(() => {
      timer = null
      void call('merge.preview', { recipe }).then((result) => {
        // an answer for a recipe that has changed since is dropped
        if (get().key !== key) return
        set(result.ok ? { plan: result.value, checking: false } : { error: result.error, checking: false })
      })
    }, DEBOUNCE_MS)
  },
  clear() {
    if (timer) clearTimeout(timer)
    timer = null
    set({ key: null, plan: null, error: null, checking: false })
  },
}))

/** The builder's draft as a recipe (or what is missing), recomputed only when the draft changes. */
export function useCurrentRecipe(): DraftToRecipe & { key: string | null } {
  const draft = useBuilderStore((s) => s.draft)
  const methods = useMethodsStore((s) => s.methods)
  return useMemo(() => {
    const result = recipeFromDraft(draft, methods)
    return { ...result, key: result.ok ? JSON.stringify(result.recipe) : null }
  }, [draft, methods])
}

/** Keeps the pre-flight in step with the builder: every complete recipe is previewed once it settles. */
export function usePreflightRunner(): void {
  const current = useCurrentRecipe()
  const schedule = usePreflightStore((s) => s.schedule)
  const clear = usePreflightStore((s) => s.clear)
  const recipe = current.ok ? current.recipe : null
  const key = current.key
  useEffect(() => {
    if (recipe && key) schedule(key, recipe)
    else clear()
    // the key is the recipe's content: a new object with the same content needs no new check
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, schedule, clear])
}

export type MergeReadiness = { ready: true; recipe: Recipe } | { ready: false; reason: string }

/** Whether Merge can be pressed now, and if not, why, in words. */
export function useMergeReadiness(): MergeReadiness {
  const current = useCurrentRecipe()
  const state = usePreflightStore()
  if (!current.ok) return { ready: false, reason: `To merge: ${current.problems.join('; ')}.` }
  if (state.key !== current.key || state.checking) return { ready: false, reason: 'Checking the recipe…' }
  if (state.error) return { ready: false, reason: `The pre-flight check failed: ${state.error.message}` }
  if (!state.plan) return { ready: false, reason: 'Checking the recipe…' }
  if (!state.plan.ok) {
    const blocking = state.plan.findings.filter((f) => f.severity === 'blocking')
    return { ready: false, reason: `Blocked: ${blocking.map((f) => f.message).join(' ') || 'the pre-flight check found a blocking problem.'}` }
  }
  return { ready: true, recipe: current.recipe }
}
