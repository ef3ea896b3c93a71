import { create } from 'zustand'
import type { OutputDType, Recipe } from '../../../../src-main/common/recipe'
import { draftFromRecipe, emptyDraft, type RecipeDraft } from './draft'

/** Edits with the same coalesce key this close together are one undo step (a slider drag, typing). */
const COALESCE_MS = 1200
const UNDO_LIMIT = 200

interface BuilderState {
  draft: RecipeDraft
  past: RecipeDraft[]
  future: RecipeDraft[]
  lastEdit: { key: string; at: number } | null
  /** what the last load did ("Loaded preset ...") */
  notice: string | null
  /** applies an edit as one undo step (or merges it into the previous step with the same key) */
  edit(change: (draft: RecipeDraft) => RecipeDraft, coalesceKey?: string): void
  /** replaces the document with a recipe (from a preset, history, a model's lineage); undoable */
  load(recipe: Recipe, notice: string): void
  /** the settings' defaults, applied to an untouched builder once they are known */
  applyDefaults(defaults: { dtype: OutputDType; embedRecipe: boolean; folder: string }): void
  undo(): void
  redo(): void
  dismissNotice(): void
}

export const useBuilderStore = create<BuilderState>()((set, get) => ({
  draft: emptyDraft({ dtype: 'auto', embedRecipe: true, folder: '' }),
  past: [],
  future: [],
  lastEdit: null,
  notice: null,
  edit(change, coalesceKey) {
    const { draft, past, lastEdit } = get()
    const next = change(draft)
    if (next === draft) return
    const now = Date.now()
    const merge = coalesceKey !== undefined && lastEdit?.key === coalesceKey && now - lastEdit.at < COALESCE_MS && past.length > 0
    set({
      draft: next,
      past: merge ? past : [...past, draft].slice(-UNDO_LIMIT),
      future: [],
      lastEdit: coalesceKey === undefined ? null : { key: coalesceKey, at: now },
    })
  },
  load(recipe, notice) {
    const { draft, past } = get()
    set({ draft: draftFromRecipe(recipe), past: [...past, draft].slice(-UNDO_LIMIT), future: [], lastEdit: null, notice })
  },
  applyDefaults(defaults) {
    const { past, future } = get()
    if (past.length > 0 || future.length > 0) return
    set({ draft: emptyDraft(defaults) })
  },
  undo() {
    const { draft, past, future } = get()
    const previous = past[past.length - 1]
    if (!previous) return
    set({ draft: previous, past: past.slice(0, -1), future: [draft, ...future], lastEdit: null })
  },
  redo() {
    const { draft, past, future } = get()
    const next = future[0]
    if (!next) return
    set({ draft: next, past: [...past, draft], future: future.slice(1), lastEdit: null })
  },
  dismissNotice: () => set({ notice: null }),
}))
