import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Recipe, type RecipeInput } from '../../src-main/common/recipe'
import { METHODS } from '../../src-main/engine/methods/registry'
import { methodInfo } from '../../src-main/engine/methods/types'
import { draftFromRecipe, emptyDraft, missingParts, recipeFromDraft, suggestedOutputName } from '../../src-renderer/src/features/builder/draft'
import { addSlot, removeSlot, setInput, setMethod, setParam } from '../../src-renderer/src/features/builder/draft-edits'

const methods = METHODS.map(methodInfo)
const info = (id: string) => {
  const found = methods.find((m) => m.id === id)
  if (!found) throw new Error(`no method ${id}`)
  return found
}

const segment = fc.stringMatching(/^[a-z0-9_-]{1,12}$/)
const modelPath = fc.tuple(segment, segment).map(([dir, file]) => `/models/${dir}/${file}.safetensors`)
const structured = fc.record(
  {
    value: fc.double({ min: -2, max: 2, noNaN: true }),
    blocks: fc.dictionary(fc.constantFrom('BASE', 'IN00', 'M00', 'OUT11'), fc.double({ min: 0, max: 1, noNaN: true }), { minKeys: 1 }),
    gradient: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 }),
    keys: fc.array(fc.record({ pattern: fc.constantFrom('\\.attn1\\.', 'time_embed', '^model\\.'), value: fc.double({ min: 0, max: 1, noNaN: true }) }), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
)

const recipes: fc.Arbitrary<Recipe> = fc
  .record({
    inputs: fc.array(modelPath, { minLength: 2, maxLength: 2 }),
    alpha: fc.option(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), structured), { nil: undefined }),
    name: fc.option(segment, { nil: undefined }),
    blocks: fc.option(fc.record({ name: fc.constant('supermerger'), version: fc.constantFrom('2025-11', '2023-07') }), { nil: undefined }),
    vae: fc.option(fc.oneof(fc.constant('drop' as const), fc.record({ take: fc.constantFrom(0, 1) }), fc.record({ file: modelPath })), { nil: undefined }),
    output: fc.tuple(segment, segment),
    dtype: fc.constantFrom('auto' as const, 'fp16' as const, 'bf16' as const, 'fp8_e4m3' as const),
    embedRecipe: fc.boolean(),
    seed: fc.nat(),
    missing: fc.constantFrom('error' as const, 'skip' as const, 'fallback' as const),
    include: fc.array(fc.constantFrom('^model\\.', 'attn'), { maxLength: 2 }),
  })
  .map((r) => {
    const input: RecipeInput = {
      format: 'amalgam.recipe',
      version: 1,
      ...(r.name === undefined ? {} : { name: r.name }),
      merge: { method: 'weighted_sum', inputs: r.inputs.map((model) => ({ model })), params: r.alpha === undefined ? {} : { alpha: r.alpha } },
      ...(r.blocks === undefined ? {} : { blocks: r.blocks }),
      components: r.vae === undefined ? {} : { vae: r.vae },
      keys: { missing: r.missing, include: r.include },
      output: { path: `/out/${r.output[0]}/${r.output[1]}.safetensors`, dtype: r.dtype, embedRecipe: r.embedRecipe },
      seed: r.seed,
    }
    return Recipe.parse(input)
  })

describe('the builder draft', () => {
  it('gives back every recipe it loads, unchanged', () => {
    fc.assert(
      fc.property(recipes, (recipe) => {
        const back = recipeFromDraft(draftFromRecipe(recipe), methods)
        expect(back).toEqual({ ok: true, recipe })
      }),
    )
  })

  it('keeps a base, nested merges and other methods through the round trip', () => {
    const recipe = Recipe.parse({
      format: 'amalgam.recipe',
      version: 1,
      merge: {
        method: 'ties_sum',
        inputs: [{ model: '/m/a.safetensors' }, { method: 'weighted_sum', inputs: [{ model: '/m/b.safetensors' }, { model: '/m/c.safetensors' }], params: { alpha: 0.3 } }],
        base: { model: '/m/base.safetensors' },
        params: { k: 0.5 },
      },
      output: { path: '/out/tied.safetensors' },
    })
    expect(recipeFromDraft(draftFromRecipe(recipe), methods)).toEqual({ ok: true, recipe })
    // a path relative to a recipe file means nothing in the builder: it asks where to write
    const relative = draftFromRecipe({ ...recipe, output: { ...recipe.output, path: 'tied.safetensors' } })
    expect(missingParts(relative, methods)).toEqual(['choose the output folder'])
  })

  it('says what is missing before the draft is a recipe', () => {
    const draft = setMethod(emptyDraft({ dtype: 'auto', embedRecipe: true, folder: '' }), 'ties_sum', methods)
    expect(missingParts(draft, methods)).toEqual(['choose model a', 'choose model b', 'choose the base model', 'name the output', 'choose the output folder'])
    const withRule = setParam(draft, 'alpha', { value: 1, keys: [{ pattern: 'attn(', value: 0 }] })
    expect(missingParts(withRule, methods)).toContain('fix alpha key rule 1: /attn(/: Unterminated group')
    expect(recipeFromDraft(draft, methods)).toMatchObject({ ok: false })
  })

  it('names the output after its inputs until the user names it', () => {
    let draft = emptyDraft({ dtype: 'auto', embedRecipe: true, folder: '' })
    draft = setInput(draft, 0, { model: '/m/anime.safetensors' })
    expect(draft.output).toMatchObject({ name: 'anime-weighted_sum', folder: '/m' })
    draft = setInput(draft, 1, { model: '/m/photo.ckpt' })
    expect(draft.output.name).toBe('anime+photo-weighted_sum')
    expect(suggestedOutputName(draft)).toBe('anime+photo-weighted_sum')
    draft = { ...draft, output: { ...draft.output, name: 'mine' } }
    draft = setInput(draft, 1, { model: '/m/other.safetensors' })
    expect(draft.output.name).toBe('mine')
  })

  it('fits the slots and parameters to a new method', () => {
    let draft = emptyDraft({ dtype: 'auto', embedRecipe: true, folder: '/out' })
    draft = setInput(setInput(draft, 0, { model: '/m/a.safetensors' }), 1, { model: '/m/b.safetensors' })
    draft = setParam(draft, 'alpha', 0.25)
    draft = { ...draft, base: null }
    const ties = setMethod(draft, 'ties_sum', methods)
    // ties_sum also has alpha: the value carries over; inputs stay
    expect(ties.params).toEqual({ alpha: 0.25 })
    expect(ties.inputs).toHaveLength(2)
    const withBase = setMethod({ ...ties, base: { model: '/m/base.safetensors' } }, 'weighted_sum', methods)
    expect(withBase.base).toBeNull()
  })

  it('keeps per-model values aligned with the slots when slots come and go', () => {
    const linear = info('linear')
    const weights = Object.entries(linear.params).find(([, spec]) => spec.type === 'number' && spec.perModel)
    if (!weights) throw new Error('linear has no per-model parameter')
    const [id] = weights
    let draft = setMethod(emptyDraft({ dtype: 'auto', embedRecipe: true, folder: '/out' }), 'linear', methods)
    draft = setParam(addSlot(draft, linear), id, [1, 2, 3])
    expect(draft.inputs).toHaveLength(3)
    expect(removeSlot(draft, 1, linear).params[id]).toEqual([1, 3])
    expect(addSlot(draft, linear).params[id]).toEqual([1, 2, 3, 3])
  })
})
