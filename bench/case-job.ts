import type { Recipe } from '../src-main/common/recipe'
import { loadComputeBackend } from '../src-main/engine/compute/backend'
import { extractLora } from '../src-main/engine/lora/extract'
import { parseRecipe } from '../src-main/engine/recipe/parse'
import { bytesOf, runRecipeToEnd } from './merge-job'
import type { BenchCase } from './options'

export interface CaseJob {
  readonly case: BenchCase
  /** SD1.5 file or LLM folder; the LoRA's base (it is b − a) */
  readonly a: string
  /** SD1.5 file or LLM folder; the LoRA's tuned model */
  readonly b: string
  /** a .safetensors file, or a folder for the LLM merge */
  readonly output: string
  readonly hashCacheDir: string
}

/** The issues' rank for the LoRA extraction (issue 6), used for linear and convolution layers alike, as the CLI does by default. */
export const LORA_RANK = 32

/** The recipes of the cases that run as merges: slerp as LLM merges use it (issue 5), rotate with the full rotation (issue 7). */
export function caseRecipe(job: CaseJob & { readonly case: 'llm_slerp' | 'rotate' }): Recipe {
  const inputs = [{ model: job.a }, { model: job.b }]
  const body =
    job.case === 'llm_slerp'
      ? { merge: { method: 'slerp', inputs, params: { alpha: 0.5, variant: 'mergekit' } }, output: { path: job.output, dtype: 'bf16' } }
      : // alignment 1 with alpha 0 is the whole Procrustes rotation of a onto b (alpha 1 as well would just copy b)
        { merge: { method: 'rotate', inputs, params: { alignment: 1, alpha: 0 } }, output: { path: job.output, dtype: 'fp16' } }
  return parseRecipe({ format: 'amalgam.recipe', version: 1, ...body }, `bench ${job.case}`)
}

/**
 * Sets a case up (loading what the job needs outside the timed span, like the modules of a merge)
 * and returns the timed part, which resolves to the bytes of its inputs and output.
 */
export async function prepareCaseJob(job: CaseJob): Promise<() => Promise<number>> {
  const files = [job.a, job.b, job.output]
  if (job.case !== 'lora_extract') {
    const recipe = caseRecipe({ ...job, case: job.case })
    return async () => {
      await runRecipeToEnd(recipe, job.hashCacheDir, `bench ${job.case}`)
      return bytesOf(files)
    }
  }
  const backend = await loadComputeBackend()
  return async () => {
    // the options `amalgam lora extract --tuned b --base a --rank 32` runs with
    await extractLora(backend.name, {
      tuned: job.b,
      base: job.a,
      out: job.output,
      rank: LORA_RANK,
      convRank: LORA_RANK,
      alpha: null,
      dtype: 'fp16',
      clampQuantile: 0.99,
      minDiff: 1e-6,
      overwrite: false,
    })
    return bytesOf(files)
  }
}
