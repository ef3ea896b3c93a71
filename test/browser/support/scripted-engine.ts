import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { AncestryNode, ArchitectureInfo, ModelDetails } from '../../../src-main/common/ipc'
import { Lineage } from '../../../src-main/common/lineage'
import type { ModelEntry } from '../../../src-main/common/model-entry'
import type { PlanFinding, PlanSummary } from '../../../src-main/common/plan-summary'
import { isModelInput, type Recipe } from '../../../src-main/common/recipe'
import { AmalgamError } from '../../../src-main/engine/errors'
import type { EngineBackends, LibraryListener } from '../../../src-main/services/backends'
import { PRESETS_JSON, catalogueModel, fluxBlocks, unetBlocks, writeDemoModels, type CatalogueModel } from './demo-catalogue'

/*
 * A stand-in for the engine behind the real app services, for browser tests that need situations
 * the demo checkpoints cannot show (a broken file, v-prediction, SDXL and Flux next to SD 1.x, a
 * blocked pre-flight) at no merge cost. It lists the real files in the library folders, describes
 * the ones the catalogue knows, hashes real bytes, plans from the catalogue's architectures, and
 * reads back the lineage files the scripted merge host writes. real-engine.test.ts covers the
 * real engine.
 */

const ARCH_LABEL: Readonly<Record<string, string>> = { sd1: 'SD 1.x', sdxl: 'SDXL', flux: 'Flux' }

function lineageOf(path: string): Lineage | null {
  const file = `${path}.lineage.json`
  if (!existsSync(file)) return null
  return Lineage.parse(JSON.parse(readFileSync(file, 'utf8')))
}

function describe(path: string, model: CatalogueModel | undefined, sha256: string | undefined): ModelEntry {
  const stat = statSync(path)
  const lineage = model ? null : lineageOf(path)
  const architecture = model?.architecture ?? 'sd1'
  const dtype = model?.dtype ?? 'F16'
  return {
    path,
    name: basename(path),
    format: 'safetensors',
    size: model?.size ?? stat.size,
    mtimeMs: stat.mtimeMs,
    status: model?.status ?? 'ok',
    problem: model?.problem ?? null,
    architecture,
    variant: model?.variant ?? null,
    predictionType: model?.predictionType ?? 'eps',
    predictionSource: 'architecture',
    layout: 'ldm',
    components: [
      { id: 'unet', keys: 686, params: 859_520_964 },
      { id: 'clip_l', keys: 197, params: 123_060_480 },
      { id: 'vae', keys: 248, params: 83_653_863 },
    ],
    dtypes: { [dtype]: 1_066_235_307 },
    params: 1_066_235_307,
    keys: 1131,
    metadata: lineage ? { amalgam_recipe: JSON.stringify(lineage.recipe) } : { 'modelspec.architecture': architecture === 'sd1' ? 'stable-diffusion-v1' : 'stable-diffusion-xl-v1-base' },
    hashes: sha256
      ? { sha256, autov2: sha256.slice(0, 10), autov1: sha256.slice(0, 8), tensorSha256: sha256, autov3: sha256.slice(0, 12) }
      : { sha256: null, autov2: null, autov1: null, tensorSha256: null, autov3: null },
    recipe: lineage ? lineage.recipe : null,
    llm: null,
    notes: lineage ? ['made by Amalgam: the recipe and lineage are embedded'] : [],
  }
}

function ancestry(path: string, recipe: Recipe): AncestryNode {
  return {
    name: basename(path),
    sha256: null,
    method: recipe.merge.method,
    parents: [...recipe.merge.inputs, ...(recipe.merge.base ? [recipe.merge.base] : [])].map((input) =>
      isModelInput(input) ? { name: basename(input.model), sha256: input.sha256 ?? null, method: null, parents: [] } : { name: 'nested merge', sha256: null, method: 'method' in input ? input.method : 'lora', parents: [] },
    ),
  }
}

export interface ScriptedEngine {
  readonly backends: EngineBackends
}

export function scriptedEngine(): ScriptedEngine {
  let folders: readonly string[] = []
  const hashes = new Map<string, string>()
  const listeners = new Set<LibraryListener>()
  const changed = (): void => listeners.forEach((l) => l.changed())

  function files(): string[] {
    return folders.flatMap((folder) =>
      existsSync(folder)
        ? readdirSync(folder)
            .filter((name) => name.endsWith('.safetensors'))
            .map((name) => join(folder, name))
        : [],
    )
  }
  const entries = (): ModelEntry[] => files().map((path) => describe(path, catalogueModel(basename(path)), hashes.get(path)))
  const entryOf = (path: string): ModelEntry | undefined => entries().find((e) => e.path === path)

  function plan(recipe: Recipe): PlanSummary {
    const roles = [...recipe.merge.inputs.map((input, i) => [String.fromCharCode(97 + i), input] as const), ...(recipe.merge.base ? [['base', recipe.merge.base] as const] : [])]
    const planned = roles.map(([role, input]) => {
      const path = isModelInput(input) ? input.model : ''
      const entry = entryOf(path)
      return { role, path, entry }
    })
    const findings: PlanFinding[] = []
    for (const p of planned) {
      if (!p.entry) findings.push({ severity: 'blocking', code: 'FILE_NOT_FOUND', message: `${p.role}: ${p.path} is not a file the library can read` })
      else if (p.entry.status !== 'ok') findings.push({ severity: 'blocking', code: 'UNREADABLE', message: `${p.role}: ${p.entry.problem ?? 'cannot be read'}` })
    }
    const a = planned[0]?.entry
    for (const p of planned.slice(1)) {
      if (!a || !p.entry) continue
      if (p.entry.architecture !== a.architecture) {
        findings.push({ severity: 'blocking', code: 'ARCHITECTURE_MISMATCH', message: `${p.role} (${p.entry.name}) is ${ARCH_LABEL[p.entry.architecture]}, but a (${a.name}) is ${ARCH_LABEL[a.architecture]}: they cannot be merged key by key` })
      } else if (p.entry.predictionType !== a.predictionType && !recipe.options.allowPredictionMismatch) {
        findings.push({ severity: 'blocking', code: 'PREDICTION_MISMATCH', message: `${p.role} (${p.entry.name}) predicts ${p.entry.predictionType}, a predicts ${a.predictionType}; allow it in "Keys and options" only if you mean it` })
      }
    }
    findings.push({ severity: 'info', code: 'COPIED_KEYS', message: '3 keys that are not weights are copied from a', keys: ['cond_stage_model.transformer.text_model.embeddings.position_ids'] })
    const size = a?.size ?? 0
    return {
      architecture: a?.architecture ?? 'unknown',
      blockConvention: recipe.blocks ?? { name: 'supermerger', version: '2025-11' },
      inputs: planned.map((p) => ({ role: p.role, path: p.path, architecture: p.entry?.architecture ?? 'unknown', predictionType: p.entry?.predictionType ?? 'unknown', size: p.entry?.size ?? 0 })),
      counts: { keys: 1131, merged: 1128, copied: 3, dropped: 0, missing: 0, shapeMismatches: 0 },
      outputPath: recipe.output.path,
      outputDType: recipe.output.dtype === 'auto' ? 'fp16' : recipe.output.dtype,
      outputBytes: size,
      freeDiskBytes: 512 * 1024 ** 3,
      estimatedPeakBytes: 180 * 1024 ** 2,
      estimatedSeconds: 12,
      backend: 'wasm',
      findings,
      ok: !findings.some((f) => f.severity === 'blocking'),
    }
  }

  function architectureInfo(architecture: string, convention?: { name: string; version: string }): ArchitectureInfo {
    const conventions = [
      { name: 'supermerger', version: '2025-11', current: true },
      { name: 'supermerger', version: '2023-07', current: false },
    ]
    const chosen = convention ?? { name: 'supermerger', version: '2025-11' }
    if (architecture === 'flux') {
      const blocks = fluxBlocks()
      const ramp = Object.fromEntries(blocks.map((b) => [b.id, Number(b.t.toFixed(4))]))
      return { architecture, convention: chosen, conventions: conventions.slice(0, 1), blocks, components: ['transformer', 'clip_l', 't5', 'vae'], presets: [{ id: 'ramp', name: 'RAMP', source: 'generated curve', values: ramp }] }
    }
    if (architecture !== 'sd1' && architecture !== 'sdxl') throw new AmalgamError('BAD_ARGUMENT', `architecture "${architecture}": the scripted engine knows sd1, sdxl and flux only`)
    const presets =
      architecture === 'sd1'
        ? Object.entries(PRESETS_JSON.sd1_26).slice(0, 6).map(([name, values]) => ({ name, source: 'supermerger', values }))
        : [
            ...Object.entries(PRESETS_JSON.sdxl_20_model_mixer).slice(0, 4).map(([name, values]) => ({ name, source: 'Model Mixer (native SDXL)', values })),
            ...Object.entries(PRESETS_JSON.sdxl_20_supermerger_derived).slice(0, 4).map(([name, values]) => ({ name, source: 'supermerger (derived from SD1)', values })),
          ]
    const blocks = unetBlocks(architecture)
    return {
      architecture,
      convention: chosen,
      conventions,
      blocks,
      components: ['unet', 'clip_l', 'vae'],
      presets: presets.map((p) => ({ id: `${p.source}:${p.name}`, name: p.name, source: p.source, values: Object.fromEntries(blocks.map((b, i) => [b.id, p.values[i] ?? 0])) })),
    }
  }

  const backends: EngineBackends = {
    library: {
      setFolders(next) {
        folders = [...next]
        changed()
      },
      snapshot: () => ({ folders: [...folders], entries: entries(), scanning: false }),
      rescan: changed,
      async inspect(path): Promise<ModelDetails> {
        const entry = entryOf(path)
        if (!entry) throw new AmalgamError('FILE_NOT_FOUND', `${path}: no such file`, path)
        const lineage = lineageOf(path)
        return { entry, ancestry: lineage ? ancestry(path, lineage.recipe) : null, lineage }
      },
      hash(paths) {
        void (async () => {
          for (const [i, path] of paths.entries()) {
            listeners.forEach((l) => l.progress({ phase: 'hashing', done: i, total: paths.length, current: path }))
            await new Promise((resolve) => setTimeout(resolve, 150))
            hashes.set(path, createHash('sha256').update(readFileSync(path)).digest('hex'))
          }
          listeners.forEach((l) => l.progress({ phase: 'hashing', done: paths.length, total: paths.length, current: null }))
          changed()
        })()
      },
      createDemo: async (folder) => writeDemoModels(folder),
      subscribe(listener) {
        listeners.add(listener)
        return () => void listeners.delete(listener)
      },
    },
    planner: {
      preview: async (recipe) => plan(recipe),
      computeBackend: async () => ({ name: 'wasm (SIMD)', gpuUnavailableReason: 'no CUDA device: @tensorflow/tfjs-node-gpu is not installed', matMul: 'native (avx2)' }),
    },
    architecture: {
      info: async ({ architecture, convention }) => architectureInfo(architecture, convention),
    },
  }
  return { backends }
}
