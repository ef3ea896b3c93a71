import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Recipe, type LoraApplication, type LoraBlockWeights } from '../../src-main/common/recipe'
import { LBW_PRESETS } from '../../src-main/engine/lora/block-weights'
import { METHODS } from '../../src-main/engine/methods/registry'
import { methodInfo } from '../../src-main/engine/methods/types'
import { useBuilderStore } from '../../src-renderer/src/features/builder/builder-store'
import { draftFromRecipe, emptyDraft, missingParts, recipeFromDraft, type RecipeDraft } from '../../src-renderer/src/features/builder/draft'
import {
  addLoras,
  addSlice,
  addSlot,
  moveSlice,
  removeLora,
  removeSlice,
  removeSlot,
  setInput,
  setMethod,
  updateLora,
  updateSlice,
} from '../../src-renderer/src/features/builder/draft-edits'
import { LORA_BLOCK_PRESETS } from '../../src-renderer/src/features/builder/lora-block-presets'
import { sliceProblem, totalSliceLayers } from '../../src-renderer/src/features/builder/slices'

const methods = METHODS.map(methodInfo)
const info = (id: string) => {
  const found = methods.find((m) => m.id === id)
  if (!found) throw new Error(`no method ${id}`)
  return found
}

/** a, b chosen, output named: a draft that converts */
function twoModels(): RecipeDraft {
  let draft = emptyDraft({ dtype: 'auto', embedRecipe: true, folder: '/out' })
  draft = setInput(setInput(draft, 0, { model: '/m/a.safetensors' }), 1, { model: '/m/b.safetensors' })
  return { ...draft, output: { ...draft.output, name: 'mix' } }
}

function recipeOf(draft: RecipeDraft): Recipe {
  const result = recipeFromDraft(draft, methods)
  if (!result.ok) throw new Error(result.problems.join('; '))
  return result.recipe
}

describe('LoRAs in the builder draft', () => {
  it('wraps a slot with LoRAs in a LoRA node and leaves the other slots as they are', () => {
    let draft = addLoras(twoModels(), 0, ['/l/detail.safetensors', '/l/style.safetensors'])
    draft = updateLora(draft, 0, 0, { strength: 0.8 })
    draft = updateLora(draft, 0, 1, { strength: -0.5, blocks: 'MIDD' })
    const recipe = recipeOf(draft)
    expect(recipe.merge.inputs).toEqual([
      {
        lora: { model: '/m/a.safetensors' },
        loras: [
          { path: '/l/detail.safetensors', strength: 0.8 },
          { path: '/l/style.safetensors', strength: -0.5, blocks: 'MIDD' },
        ],
      },
      { model: '/m/b.safetensors' },
    ])
    // the preset set back to "all blocks" leaves no blocks key behind
    const cleared = recipeOf(updateLora(draft, 0, 1, { blocks: undefined }))
    expect(cleared.merge.inputs[0]).toEqual({ lora: { model: '/m/a.safetensors' }, loras: [{ path: '/l/detail.safetensors', strength: 0.8 }, { path: '/l/style.safetensors', strength: -0.5 }] })
    // removing the last LoRA unwraps the slot again
    expect(recipeOf(removeLora(removeLora(draft, 0, 0), 0, 0)).merge.inputs[0]).toEqual({ model: '/m/a.safetensors' })
  })

  it('wraps the base too, and attaches a file only once', () => {
    let draft = setMethod(twoModels(), 'ties_sum', methods)
    draft = setInput(draft, 0, { model: '/m/a.safetensors' })
    draft = { ...draft, base: { model: '/m/base.safetensors' } }
    draft = addLoras(draft, 'base', ['/l/x.safetensors'])
    expect(addLoras(draft, 'base', ['/l/x.safetensors'])).toBe(draft)
    expect(recipeOf(draft).merge.base).toEqual({ lora: { model: '/m/base.safetensors' }, loras: [{ path: '/l/x.safetensors', strength: 1 }] })
    // a method without base drops the base and its LoRAs
    const plain = setMethod(draft, 'weighted_sum', methods)
    expect([plain.base, plain.baseLoras]).toEqual([null, []])
  })

  it('gives back recipes with LoRA nodes unchanged, showing each top-level node as its model plus LoRAs', () => {
    const blocks: fc.Arbitrary<LoraBlockWeights> = fc.oneof(fc.constantFrom(...LORA_BLOCK_PRESETS), fc.constant<Record<string, number>>({ IN04: 0.5 }), fc.constant<number[]>([1, 0, 0.5]))
    const lora: fc.Arbitrary<LoraApplication> = fc.record({
      path: fc.constantFrom('/l/a.safetensors', '/l/b.safetensors', '/l/c.safetensors'),
      strength: fc.double({ min: -2, max: 2, noNaN: true }),
      blocks: fc.option(blocks, { nil: undefined }),
    })
    const loraList = fc.uniqueArray(lora, { selector: (l) => l.path, maxLength: 3 })
    fc.assert(
      fc.property(loraList, loraList, (onA, onB) => {
        const wrap = (model: string, loras: LoraApplication[]) => (loras.length === 0 ? { model } : { lora: { model }, loras: loras.map((l) => (l.blocks === undefined ? { path: l.path, strength: l.strength } : l)) })
        const recipe = Recipe.parse({
          format: 'amalgam.recipe',
          version: 1,
          merge: { method: 'weighted_sum', inputs: [wrap('/m/a.safetensors', onA), wrap('/m/b.safetensors', onB)], params: { alpha: 0.5 } },
          output: { path: '/out/x.safetensors' },
        })
        const draft = draftFromRecipe(recipe)
        expect(draft.inputs).toEqual([{ model: '/m/a.safetensors' }, { model: '/m/b.safetensors' }])
        expect(draft.loras.map((l) => l.length)).toEqual([onA.length, onB.length])
        expect(recipeFromDraft(draft, methods)).toEqual({ ok: true, recipe })
      }),
    )
  })

  it('keeps each slot’s LoRAs with its slot when slots come and go or are cleared', () => {
    const linear = info('linear')
    let draft = setMethod(twoModels(), 'linear', methods)
    draft = addLoras(addLoras(draft, 0, ['/l/on-a.safetensors']), 1, ['/l/on-b.safetensors'])
    draft = addSlot(draft, linear)
    expect(draft.loras.map((l) => l.map((x) => x.path))).toEqual([['/l/on-a.safetensors'], ['/l/on-b.safetensors'], []])
    expect(removeSlot(draft, 0, linear).loras.map((l) => l.map((x) => x.path))).toEqual([['/l/on-b.safetensors'], []])
    expect(setInput(draft, 1, null).loras[1]).toEqual([])
    // another model in the slot keeps the LoRAs
    expect(setInput(draft, 1, { model: '/m/c.safetensors' }).loras[1]).toHaveLength(1)
  })

  it('asks for a strength that is a number', () => {
    const draft = updateLora(addLoras(twoModels(), 1, ['/l/odd.safetensors']), 1, 0, { strength: Number.NaN })
    expect(missingParts(draft, methods)).toEqual(['set the strength of odd.safetensors on b'])
  })

  it('offers the block-weight presets the engine knows', () => {
    expect([...LORA_BLOCK_PRESETS].sort()).toEqual(Object.keys(LBW_PRESETS).sort())
  })

  it('undoes and redoes LoRA edits as single steps', () => {
    const store = useBuilderStore.getState()
    store.load(recipeOf(twoModels()), 'test')
    useBuilderStore.getState().edit((d) => addLoras(d, 0, ['/l/u.safetensors']))
    useBuilderStore.getState().edit((d) => updateLora(d, 0, 0, { strength: 0.3 }), 'strength')
    useBuilderStore.getState().edit((d) => updateLora(d, 0, 0, { strength: 0.4 }), 'strength')
    expect(useBuilderStore.getState().draft.loras[0]).toEqual([{ path: '/l/u.safetensors', strength: 0.4 }])
    useBuilderStore.getState().undo()
    expect(useBuilderStore.getState().draft.loras[0]).toEqual([{ path: '/l/u.safetensors', strength: 1 }])
    useBuilderStore.getState().undo()
    expect(useBuilderStore.getState().draft.loras[0]).toEqual([])
    useBuilderStore.getState().redo()
    expect(useBuilderStore.getState().draft.loras[0]).toEqual([{ path: '/l/u.safetensors', strength: 1 }])
  })
})

describe('frankenmerge slices in the builder draft', () => {
  function passthrough(): RecipeDraft {
    const draft = setMethod(twoModels(), 'passthrough', methods)
    return { ...draft, output: { ...draft.output, name: 'franken' } }
  }

  it('writes the slices in order into the recipe of a passthrough', () => {
    let draft = addSlice(passthrough(), { model: '/llm/base', layers: [0, 24] })
    draft = addSlice(draft, { model: '/llm/instruct', layers: [8, 32] })
    const recipe = recipeOf(draft)
    expect(recipe.merge).toEqual({ method: 'passthrough', inputs: [{ model: '/m/a.safetensors' }], params: {} })
    expect(recipe.slices).toEqual([
      { model: '/llm/base', layers: [0, 24] },
      { model: '/llm/instruct', layers: [8, 32] },
    ])
    expect(recipeOf(moveSlice(draft, 1, -1)).slices?.map((s) => s.model)).toEqual(['/llm/instruct', '/llm/base'])
    expect(moveSlice(draft, 1, 1)).toBe(draft)
    expect(recipeOf(removeSlice(draft, 0)).slices).toEqual([{ model: '/llm/instruct', layers: [8, 32] }])
    expect(recipeOf(removeSlice(removeSlice(draft, 0), 0)).slices).toBeUndefined()
    // another method leaves the slices out of the recipe (they are kept in the draft for a way back)
    const weighted = setMethod(draft, 'weighted_sum', methods)
    expect(recipeOf(setInput(weighted, 1, { model: '/m/b.safetensors' })).slices).toBeUndefined()
    expect(recipeFromDraft(draftFromRecipe(recipe), methods)).toEqual({ ok: true, recipe })
  })

  it('refuses empty and inverted ranges and counts the output’s layers', () => {
    const draft = updateSlice(addSlice(passthrough(), { model: '/llm/base', layers: [0, 24] }), 0, { layers: [10, 10] })
    expect(missingParts(draft, methods)).toEqual(['fix slice 1: layers 10–10 are empty: the end (exclusive) must be above the first layer'])
    expect(sliceProblem({ model: '/llm/base', layers: [20, 33] }, 32)).toBe('the model has 32 layers: the end (exclusive) can be at most 32')
    expect(sliceProblem({ model: '/llm/base', layers: [20, 32] }, 32)).toBeNull()
    expect(sliceProblem({ model: '/llm/base', layers: [1.5, 4] })).toBe('the first layer must be a whole number from 0')
    const slices = [
      { model: '/x', layers: [0, 24] as [number, number] },
      { model: '/y', layers: [8, 32] as [number, number] },
      { model: '/z', layers: [5, 3] as [number, number] },
    ]
    expect(totalSliceLayers(slices)).toBe(48)
  })
})
