import type { ArchitectureInfo, ModelDetails } from '../../../src-main/common/ipc'
import type { Lineage } from '../../../src-main/common/lineage'
import type { ModelEntry } from '../../../src-main/common/model-entry'
import type { PlanSummary } from '../../../src-main/common/plan-summary'
import { Recipe } from '../../../src-main/common/recipe'

/** A valid two-model weighted sum writing to `output`; `name` selects a scripted host behaviour. */
export function testRecipe(output: string, name = 'quick'): Recipe {
  return Recipe.parse({
    format: 'amalgam.recipe',
    version: 1,
    name,
    merge: { method: 'weighted_sum', inputs: [{ model: '/models/a.safetensors' }, { model: '/models/b.safetensors' }], params: { alpha: 0.5 } },
    output: { path: output },
  })
}

export function testModelEntry(path: string): ModelEntry {
  return {
    path,
    name: path.split('/').pop() ?? path,
    format: 'safetensors',
    size: 1024,
    mtimeMs: 0,
    status: 'ok',
    problem: null,
    architecture: 'sd1',
    variant: null,
    predictionType: 'eps',
    predictionSource: 'architecture',
    layout: 'ldm',
    components: [{ id: 'unet', keys: 2, params: 8 }],
    dtypes: { F16: 8 },
    params: 8,
    keys: 2,
    metadata: {},
    hashes: { sha256: null, autov2: null, autov1: null, tensorSha256: null, autov3: null },
    recipe: null,
    llm: null,
    notes: [],
  }
}

export function testModelDetails(path: string): ModelDetails {
  return { entry: testModelEntry(path), ancestry: null, lineage: null }
}

export function testPlanSummary(recipe: Recipe): PlanSummary {
  return {
    architecture: 'sd1',
    blockConvention: { name: 'supermerger', version: '2025-11' },
    inputs: recipe.merge.inputs.map((input, i) => ({ role: String.fromCharCode(97 + i), path: 'model' in input ? input.model : '', architecture: 'sd1', predictionType: 'eps', size: 1024 })),
    counts: { keys: 2, merged: 2, copied: 0, dropped: 0, missing: 0, shapeMismatches: 0 },
    outputPath: recipe.output.path,
    outputDType: 'fp16',
    outputBytes: 1024,
    freeDiskBytes: null,
    estimatedPeakBytes: 4096,
    estimatedSeconds: 1,
    backend: 'wasm',
    findings: [],
    ok: true,
  }
}

export function testArchitectureInfo(architecture: string): ArchitectureInfo {
  return {
    architecture,
    convention: { name: 'supermerger', version: '2025-11' },
    conventions: [{ name: 'supermerger', version: '2025-11', current: true }],
    blocks: [
      { id: 'BASE', group: 'BASE', t: 0, keys: 1 },
      { id: 'IN00', group: 'IN', t: 1, keys: 1 },
    ],
    components: ['unet'],
    presets: [],
  }
}

export function testLineage(recipe: Recipe): Lineage {
  return {
    schema: 'amalgam.lineage/1',
    recipe,
    inputs: [],
    output: { path: recipe.output.path, size: 1024, tensorSha256: '0'.repeat(64), keys: 2, dtype: 'F16' },
    engine: { version: '0.1.0', backend: 'wasm', gpuUnavailableReason: null },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    blockStats: [],
    warnings: [],
  }
}
