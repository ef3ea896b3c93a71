// The merge host process for browser tests: the real host loop (protocol, cancel, terminal events)
// around a scripted merge that reports like the engine does and writes the output and its lineage.
import { writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { MergeEvent } from '../../../src-main/common/events'
import { LINEAGE_SCHEMA, type Lineage } from '../../../src-main/common/lineage'
import type { PlanSummary } from '../../../src-main/common/plan-summary'
import { isModelInput, type Recipe } from '../../../src-main/common/recipe'
import { AmalgamError } from '../../../src-main/engine/errors'
import { parentChannel } from '../../../src-main/merge-host/channel'
import { serveHost } from '../../../src-main/merge-host/host-loop'
import { unetBlocks } from './demo-catalogue'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function planOf(recipe: Recipe): PlanSummary {
  return {
    architecture: 'sd1',
    blockConvention: recipe.blocks ?? { name: 'supermerger', version: '2025-11' },
    inputs: recipe.merge.inputs.map((input, i) => ({ role: String.fromCharCode(97 + i), path: isModelInput(input) ? input.model : '', architecture: 'sd1', predictionType: 'eps', size: 1024 })),
    counts: { keys: 1131, merged: 1128, copied: 3, dropped: 0, missing: 0, shapeMismatches: 0 },
    outputPath: recipe.output.path,
    outputDType: 'fp16',
    outputBytes: 1024,
    freeDiskBytes: null,
    estimatedPeakBytes: 1024,
    estimatedSeconds: 1,
    backend: 'wasm',
    findings: [],
    ok: true,
  }
}

/** Output names choose the script: "...slow..." runs long enough to cancel, "...fail..." fails half way. */
async function scripted(recipe: Recipe, { signal, onEvent }: { signal: AbortSignal; onEvent: (event: MergeEvent) => void }): Promise<void> {
  const name = basename(recipe.output.path)
  const started = Date.now()
  const total = name.includes('slow') ? 600 : 24
  const blocks = unetBlocks('sd1')
  onEvent({ type: 'started', plan: planOf(recipe) })
  onEvent({ type: 'phase', phase: 'merging' })
  for (let i = 0; i < total; i++) {
    if (signal.aborted) throw new AmalgamError('CANCELLED', 'cancelled')
    const block = blocks[i % blocks.length]!
    const key = `model.diffusion_model.${block.id.toLowerCase()}.${i}.weight`
    onEvent({ type: 'progress', phase: 'merging', index: i, total, key, bytesDone: (i + 1) * 4_000_000, bytesTotal: total * 4_000_000, elapsedMs: Date.now() - started, etaMs: (total - i - 1) * 40 })
    if (i === 3) onEvent({ type: 'warning', key, message: 'the result has 2 NaN values; they were replaced by a’s values' })
    if (name.includes('fail') && i === total / 2) throw new AmalgamError('OUT_OF_MEMORY', `${key}: needs 3.1 GB of working memory, 2.0 GB are free; lower the chunk size or close other programs`)
    await sleep(name.includes('slow') ? 50 : 40)
  }
  onEvent({ type: 'phase', phase: 'finalising' })
  writeFileSync(recipe.output.path, 'merged by the scripted host\n')
  const lineagePath = `${recipe.output.path}.lineage.json`
  const lineage: Lineage = {
    schema: LINEAGE_SCHEMA,
    recipe,
    inputs: recipe.merge.inputs.map((input, i) => ({ role: String.fromCharCode(97 + i), path: isModelInput(input) ? input.model : '', size: 1024, sha256: null, tensorSha256: null, architecture: 'sd1' })),
    output: { path: recipe.output.path, size: 2_132_000_000, tensorSha256: '0'.repeat(64), keys: 1131, dtype: 'F16' },
    engine: { version: '0.1.0', backend: 'wasm', gpuUnavailableReason: 'no CUDA device' },
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    blockStats: blocks.map((b) => ({ block: b.id, meanAbsChange: 0.002 + 0.01 * Math.abs(0.5 - b.t), elements: 1000 })),
    warnings: ['the result has 2 NaN values; they were replaced by a’s values'],
  }
  writeFileSync(lineagePath, JSON.stringify(lineage))
  onEvent({ type: 'done', path: recipe.output.path, lineagePath, durationMs: lineage.durationMs, lineage })
}

serveHost(parentChannel(), scripted)
