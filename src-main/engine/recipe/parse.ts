import type { z } from 'zod'
import { Recipe, type RecipeInput } from '../../common/recipe'
import { AmalgamError } from '../errors'

/** "merge.inputs[1].model" from a zod issue path */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else out += out ? `.${String(segment)}` : String(segment)
  }
  return out || '(recipe)'
}

function describeIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((issue) => `${formatPath(issue.path)}: ${issue.message}`)
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : ''
  return issues.join('; ') + more
}

/**
 * Validates a recipe object (from JSON, IPC or a preset) and fills its defaults. Errors name the
 * path of the first problems: "recipe.json: merge.inputs[1]: expected an object".
 */
export function parseRecipe(value: unknown, source = 'recipe'): Recipe {
  if (typeof value === 'object' && value !== null && 'version' in value && (value as { version: unknown }).version !== 1) {
    const version = (value as { version: unknown }).version
    throw new AmalgamError('BAD_RECIPE', `${source}: recipe version ${JSON.stringify(version)} is not supported by this Amalgam (it reads version 1)`)
  }
  const result = Recipe.safeParse(value)
  if (!result.success) throw new AmalgamError('BAD_RECIPE', `${source}: ${describeIssues(result.error)}`)
  return result.data
}

export function parseRecipeJson(text: string, source = 'recipe'): Recipe {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new AmalgamError('BAD_RECIPE', `${source}: not valid JSON (${(err as Error).message})`)
  }
  return parseRecipe(value, source)
}

/** A recipe written by hand or by the builder, before defaults: what presets store. */
export type { RecipeInput }
