import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { MergeEvent } from '../src-main/common/events'
import type { Recipe } from '../src-main/common/recipe'
import { AmalgamError } from '../src-main/engine/errors'
import { runRecipe } from '../src-main/engine/execute/run-recipe'
import { HashCache } from '../src-main/engine/library/hash-cache'
import { parseRecipe } from '../src-main/engine/recipe/parse'
import type { BenchMethod } from './options'

export interface MergeJob {
  readonly method: BenchMethod
  readonly a: string
  readonly b: string
  readonly base: string
  readonly output: string
  readonly hashCacheDir: string
}

/** The recipe each benchmark row runs: the parameters (alpha 0.5; a + (b − base); TIES k = 0.2 over two models and a base). */
export function benchRecipe(job: MergeJob): Recipe {
  const inputs = [{ model: job.a }, { model: job.b }]
  const base = { model: job.base }
  const merge =
    job.method === 'weighted_sum'
      ? { method: 'weighted_sum', inputs, params: { alpha: 0.5 } }
      : job.method === 'add_difference'
        ? { method: 'add_difference', inputs, base, params: { alpha: 1 } }
        : { method: 'ties_sum', inputs, base, params: { k: 0.2 } }
  return parseRecipe({ format: 'amalgam.recipe', version: 1, merge, output: { path: job.output, dtype: 'fp16' } }, `bench ${job.method}`)
}

/**
 * Runs the merge through the production entry (planning, worker threads, hashing through the hash
 * cache, writing, lineage) and returns the bytes it moved: its inputs read and its output written.
 */
export async function runMergeJob(job: MergeJob): Promise<number> {
  await runRecipeToEnd(benchRecipe(job), job.hashCacheDir, `bench ${job.method}`)
  const inputs = job.method === 'weighted_sum' ? [job.a, job.b] : [job.a, job.b, job.base]
  return bytesOf([...inputs, job.output])
}

/** runRecipe with the bench's hash cache; throws unless the merge ends `done`. */
export async function runRecipeToEnd(recipe: Recipe, hashCacheDir: string, label: string): Promise<void> {
  let end: MergeEvent | null = null
  await runRecipe(recipe, {
    signal: new AbortController().signal,
    hashCache: new HashCache(hashCacheDir),
    onEvent: (event) => {
      if (event.type === 'done' || event.type === 'failed' || event.type === 'cancelled') end = event
    },
  })
  const terminal = end as MergeEvent | null
  if (terminal?.type !== 'done') {
    const why = terminal?.type === 'failed' ? terminal.error.message : (terminal?.type ?? 'no terminal event')
    throw new AmalgamError('INTERNAL', `${label}: the merge did not finish: ${why}`)
  }
}

/** Total size of these files; a folder counts as the sum of its files (a Hugging Face model is one). */
export async function bytesOf(paths: readonly string[]): Promise<number> {
  let total = 0
  for (const path of paths) {
    const info = await stat(path)
    if (!info.isDirectory()) total += info.size
    else total += await bytesOf((await readdir(path)).map((name) => join(path, name)))
  }
  return total
}
