import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { resolveTree } from '../../src-main/engine/plan/recipe-tree'
import { parseRecipeJson } from '../../src-main/engine/recipe/parse'

const DOC = new URL('../../docs/RECIPES.md', import.meta.url)

/** The complete recipes among the doc's JSON examples (fragments do not start with a "format" line). */
function recipeExamples(): string[] {
  const blocks = [...readFileSync(DOC, 'utf8').matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!)
  return blocks.filter((b) => b.includes('"format": "amalgam.recipe"'))
}

describe('docs/RECIPES.md', () => {
  it('has recipe examples that parse and whose merge trees check out (methods, inputs, bases, parameters)', () => {
    const examples = recipeExamples()
    expect(examples.length).toBeGreaterThanOrEqual(8)
    for (const text of examples) {
      const recipe = parseRecipeJson(text, 'docs/RECIPES.md')
      expect(() => resolveTree(recipe.merge, '/models'), text).not.toThrow()
    }
  })
})
