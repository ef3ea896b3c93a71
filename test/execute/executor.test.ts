import { existsSync, readFileSync, readdirSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Lineage } from '../../src-main/common/lineage'
import { MergeEvent } from '../../src-main/common/events'
import { executePlan, type ExecuteOptions } from '../../src-main/engine/execute/executor'
import { HashCache } from '../../src-main/engine/library/hash-cache'
import type { Plan } from '../../src-main/engine/plan/types'
import { amalgamErrorOf, useTempDir } from '../formats/support'
import {
  leaf,
  lerp64,
  locatorOf,
  makePlan,
  mergeAction,
  method,
  readOutput,
  recordEvents,
  seededFloats,
  sha256Hex,
  storedBytes,
  tensorBytes,
  testRecipe,
  viaF16,
  writeInput,
  type TaskSpec,
  type WrittenInput,
} from './support'

const tempDir = useTempDir()

const POSITION_IDS = 'cond_stage_model.transformer.text_model.embeddings.position_ids'
const Q_PROJ = 'cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight'
const VAE_CONV_IN = 'first_stage_model.decoder.conv_in.weight'
const VAE_CONV_IN_BIAS = 'first_stage_model.decoder.conv_in.bias'
const IN00 = 'model.diffusion_model.input_blocks.0.0.weight'
const IN01_PROJ = 'model.diffusion_model.input_blocks.1.1.proj_in.weight'
const MID_PROJ = 'model.diffusion_model.middle_block.1.proj_out.weight'

const SHAPES: Readonly<Record<string, number[]>> = {
  [Q_PROJ]: [16, 16],
  [VAE_CONV_IN]: [8, 4, 3, 3],
  [VAE_CONV_IN_BIAS]: [8],
  [IN00]: [8, 4, 3, 3],
  [IN01_PROJ]: [32, 33],
  [MID_PROJ]: [40, 40],
}
const MERGED: Readonly<Record<string, string>> = { [Q_PROJ]: 'BASE', [IN00]: 'IN00', [IN01_PROJ]: 'IN01', [MID_PROJ]: 'M00' }
const ALPHA = 0.3

function numel(key: string): number {
  return SHAPES[key]!.reduce((p, d) => p * d, 1)
}

/** damaged position ids, as float merges leave them: 0..76 off by a little */
function damagedPositionIds(): Uint8Array {
  const bytes = new Uint8Array(77 * 8)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < 77; i++) view.setBigInt64(i * 8, BigInt(i === 40 ? 39 : i), true)
  return bytes
}

interface Fixture {
  dir: string
  a: WrittenInput
  b: WrittenInput
  values: { a: Record<string, Float32Array>; b: Record<string, Float32Array> }
}

async function sd1Fixture(bMetadata: Record<string, string> = {}): Promise<Fixture> {
  const dir = tempDir()
  const values = { a: {} as Record<string, Float32Array>, b: {} as Record<string, Float32Array> }
  Object.keys(SHAPES).forEach((key, i) => {
    values.a[key] = seededFloats(numel(key), 100 + i)
    values.b[key] = seededFloats(numel(key), 200 + i)
  })
  const floatTensors = (which: 'a' | 'b'): { key: string; dtype: 'F16' | 'F32'; shape: number[]; data: Float32Array }[] =>
    Object.keys(SHAPES).map((key) => ({ key, dtype: which === 'a' && key === VAE_CONV_IN ? 'F32' : 'F16', shape: SHAPES[key]!, data: values[which][key]! }))
  const a = await writeInput(join(dir, 'a.safetensors'), 'a', [{ key: POSITION_IDS, dtype: 'I64', shape: [1, 77], data: damagedPositionIds() }, ...floatTensors('a')], {
    'modelspec.title': 'Model A',
    'modelspec.encoder_layer': '2',
  })
  const b = await writeInput(join(dir, 'b.safetensors'), 'b', floatTensors('b'), bMetadata)
  return { dir, a, b, values }
}

function sd1Tasks(f: Fixture, alpha = ALPHA): TaskSpec[] {
  const tasks: TaskSpec[] = [{ key: POSITION_IDS, dtype: 'I64', shape: [1, 77], action: { kind: 'position_ids', length: 77 } }]
  for (const key of Object.keys(SHAPES)) {
    const action =
      key in MERGED
        ? mergeAction(method('weighted_sum', [leaf(locatorOf(f.a, key)), leaf(locatorOf(f.b, key))], { alpha }))
        : ({ kind: 'copy', source: locatorOf(f.a, key) } as const)
    tasks.push({ key, dtype: 'F16', shape: SHAPES[key]!, action, block: MERGED[key] ?? null })
  }
  return tasks
}

function sd1Plan(f: Fixture, outputName = 'merged.safetensors'): Plan {
  const recipe = testRecipe(join(f.dir, outputName))
  return makePlan({ recipe, inputs: [f.a.file, f.b.file], tasks: sd1Tasks(f) })
}

function options(f: { dir: string }, extra: Partial<ExecuteOptions> = {}): ExecuteOptions {
  return { backend: 'wasm', hashCache: new HashCache(join(f.dir, 'cache')), ...extra }
}

/** the expected stored value of a merged key: torch.lerp in float64, stored as float32 by the kernel */
function expectedMerge(f: Fixture, key: string, alpha = ALPHA): number[] {
  const a = viaF16(f.values.a[key]!)
  const b = viaF16(f.values.b[key]!)
  return a.map((x, i) => Math.fround(lerp64(x, b[i]!, alpha)))
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.partial'))
}

describe('executePlan: output bytes', () => {
  it.each([
    { threads: 1, chunkElements: undefined },
    { threads: 2, chunkElements: 100 },
  ])('copies, transcodes, rebuilds and merges keys to the expected bytes (threads $threads, chunk $chunkElements)', async ({ threads, chunkElements }) => {
    const f = await sd1Fixture()
    const plan = sd1Plan(f)
    const { events, onEvent } = recordEvents()
    const lineage = await executePlan(plan, options(f, { threads, onEvent, ...(chunkElements ? { chunkElements } : {}) }))
    const out = readOutput(plan.output.path)

    const ids = new Uint8Array(77 * 8)
    for (let i = 0; i < 77; i++) new DataView(ids.buffer).setBigInt64(i * 8, BigInt(i), true)
    expect(tensorBytes(out, POSITION_IDS)).toEqual(ids)
    for (const key of Object.keys(MERGED)) expect(tensorBytes(out, key), key).toEqual(storedBytes('F16', expectedMerge(f, key)))
    // a's F32 VAE weight transcoded to F16; its F16 bias copied byte for byte
    expect(tensorBytes(out, VAE_CONV_IN)).toEqual(storedBytes('F16', f.values.a[VAE_CONV_IN]!))
    expect(tensorBytes(out, VAE_CONV_IN_BIAS)).toEqual(storedBytes('F16', f.values.a[VAE_CONV_IN_BIAS]!))
    expect(Object.keys(out.header)).toEqual(plan.tasks.map((t) => t.key))

    expect(leftovers(f.dir)).toEqual([])
    expect(lineage.output.keys).toBe(plan.tasks.length)
    const types = events.map((e) => e.type)
    expect(types[0]).toBe('started')
    expect(types.at(-1)).toBe('done')
    expect(events.filter((e) => e.type === 'phase').map((e) => (e.type === 'phase' ? e.phase : ''))).toEqual(['hashing', 'merging', 'finalising'])
    const progress = events.filter((e) => e.type === 'progress' && e.phase === 'merging')
    expect(progress).toHaveLength(plan.tasks.length)
    expect(progress.at(-1)).toMatchObject({ index: plan.tasks.length, total: plan.tasks.length, etaMs: 0 })
    for (const e of events) expect(MergeEvent.safeParse(e).success, e.type).toBe(true)
  })

  it('leaves its inputs byte for byte as they were', async () => {
    const f = await sd1Fixture()
    const before = [f.a.file.path, f.b.file.path].map((p) => sha256Hex(readFileSync(p)))
    await executePlan(sd1Plan(f), options(f))
    expect([f.a.file.path, f.b.file.path].map((p) => sha256Hex(readFileSync(p)))).toEqual(before)
  })

  it('writes a byte-identical file when the same plan runs again', async () => {
    const f = await sd1Fixture()
    const plan = sd1Plan(f)
    await executePlan(plan, options(f, { threads: 2, chunkElements: 64 }))
    const first = readFileSync(plan.output.path)
    renameSync(plan.output.path, join(f.dir, 'first.safetensors'))
    await executePlan(plan, options(f, { threads: 1 }))
    expect(readFileSync(plan.output.path).equals(first)).toBe(true)
  })

  it('merges an inpainting model: channels [0, 4) of a 9-channel conv from the merge, the rest from a', async () => {
    const dir = tempDir()
    const full = seededFloats(8 * 9 * 9, 1)
    const other = seededFloats(8 * 4 * 9, 2)
    const a = await writeInput(join(dir, 'a.safetensors'), 'a', [{ key: IN00, dtype: 'F32', shape: [8, 9, 3, 3], data: full }])
    const b = await writeInput(join(dir, 'b.safetensors'), 'b', [{ key: IN00, dtype: 'F32', shape: [8, 4, 3, 3], data: other }])
    const aFull = locatorOf(a, IN00)
    // the planner's view of a's first four channels: a strided locator into a's tensor
    const aSliced = { ...aFull, shape: [8, 4, 3, 3], strides: [81, 9, 3, 1] }
    const expr = method('weighted_sum', [leaf(aSliced), leaf(locatorOf(b, IN00))], { alpha: 0.5 })
    const recipe = testRecipe(join(dir, 'inpaint.safetensors'))
    const plan = makePlan({ recipe, inputs: [a.file, b.file], tasks: [{ key: IN00, dtype: 'F32', shape: [8, 9, 3, 3], action: mergeAction(expr, { dim: 1, count: 4, full: aFull }), block: 'IN00' }] })
    const lineage = await executePlan(plan, options({ dir }))
    const expected = [...full]
    let changed = 0
    for (let o = 0; o < 8; o++) {
      for (let c = 0; c < 4; c++) {
        for (let s = 0; s < 9; s++) {
          const i = (o * 9 + c) * 9 + s
          expected[i] = Math.fround(lerp64(full[i]!, other[(o * 4 + c) * 9 + s]!, 0.5))
          changed += Math.abs(expected[i]! - full[i]!)
        }
      }
    }
    expect(tensorBytes(readOutput(plan.output.path), IN00)).toEqual(storedBytes('F32', expected))
    expect(lineage.blockStats).toHaveLength(1)
    expect(lineage.blockStats[0]!.elements).toBe(8 * 4 * 9)
    expect(lineage.blockStats[0]!.meanAbsChange).toBeCloseTo(changed / (8 * 4 * 9), 12)
  })
})

describe('executePlan: nested expressions', () => {
  it('evaluates a sub-expression referenced twice once per key (its random draws are shared)', async () => {
    const f = await sd1Fixture()
    const key = MID_PROJ
    const [la, lb] = [leaf(locatorOf(f.a, key)), leaf(locatorOf(f.b, key))]
    // same structural id, different node names: evaluated twice they would draw different masks
    const first = method('dropout', [la, lb], { probability: 0.5, alpha: 1 }, { id: 'drop', node: 'merge.inputs[0]' })
    const second = method('dropout', [la, lb], { probability: 0.5, alpha: 1 }, { id: 'drop', node: 'merge.inputs[1]' })
    const run = async (name: string, expr: ReturnType<typeof method>): Promise<Uint8Array> => {
      const plan = makePlan({ recipe: testRecipe(join(f.dir, name)), inputs: [f.a.file, f.b.file], tasks: [{ key, dtype: 'F32', shape: SHAPES[key]!, action: mergeAction(expr) }] })
      await executePlan(plan, options(f))
      return tensorBytes(readOutput(plan.output.path), key)
    }
    const both = await run('both.safetensors', method('weighted_sum', [first, second], { alpha: 0.5 }))
    const alone = await run('first.safetensors', first)
    const otherNode = await run('second.safetensors', { ...second, id: 'drop-2' })
    expect(both).toEqual(alone)
    // the draws of the two node names really differ, so the equality above is not a coincidence
    expect(otherNode).not.toEqual(alone)
  })
})

describe('executePlan: cancel and failure', () => {
  async function manyKeysPlan(): Promise<{ dir: string; plan: Plan }> {
    const dir = tempDir()
    const keys = Array.from({ length: 300 }, (_, i) => `model.diffusion_model.output_blocks.${Math.floor(i / 30)}.${i % 30}.weight`)
    const tensors = (seed: number) => keys.map((key, i) => ({ key, dtype: 'F16' as const, shape: [64, 64], data: seededFloats(64 * 64, seed + i) }))
    const a = await writeInput(join(dir, 'a.safetensors'), 'a', tensors(0))
    const b = await writeInput(join(dir, 'b.safetensors'), 'b', tensors(1000))
    const tasks: TaskSpec[] = keys.map((key) => ({
      key,
      dtype: 'F16',
      shape: [64, 64],
      action: mergeAction(method('weighted_sum', [leaf(locatorOf(a, key)), leaf(locatorOf(b, key))], { alpha: 0.5 })),
      block: 'OUT00',
    }))
    return { dir, plan: makePlan({ recipe: testRecipe(join(dir, 'many.safetensors')), inputs: [a.file, b.file], tasks }) }
  }

  it('stops on cancel after the first key, leaves no file and reports exactly one cancelled', async () => {
    const { dir, plan } = await manyKeysPlan()
    const controller = new AbortController()
    const events: MergeEvent[] = []
    const onEvent = (e: MergeEvent): void => {
      events.push(e)
      if (e.type === 'progress' && e.phase === 'merging') controller.abort()
    }
    const err = await amalgamErrorOf(executePlan(plan, options({ dir }, { signal: controller.signal, onEvent, threads: 2 })))
    expect(err.code).toBe('CANCELLED')
    expect(events.filter((e) => e.type === 'cancelled')).toHaveLength(1)
    expect(events.filter((e) => e.type === 'done' || e.type === 'failed')).toHaveLength(0)
    expect(events.at(-1)?.type).toBe('cancelled')
    expect(events.filter((e) => e.type === 'progress' && e.phase === 'merging').length).toBeLessThan(plan.tasks.length)
    expect(existsSync(plan.output.path)).toBe(false)
    expect(leftovers(dir)).toEqual([])
    expect(readdirSync(dir).some((n) => n.endsWith('.lineage.json'))).toBe(false)
  })

  it('reports cancelled without writing anything when the signal is already aborted', async () => {
    const { dir, plan } = await manyKeysPlan()
    const { events, onEvent } = recordEvents()
    const err = await amalgamErrorOf(executePlan(plan, options({ dir }, { signal: AbortSignal.abort(), onEvent })))
    expect(err.code).toBe('CANCELLED')
    expect(events.map((e) => e.type)).toEqual(['started', 'cancelled'])
    expect(readdirSync(dir).filter((n) => n.startsWith('many'))).toEqual([])
  })

  it('fails cleanly when an input turns out to be truncated', async () => {
    const f = await sd1Fixture()
    const locators = f.b.locators
    // cut b short after it was planned, then describe it as it now is so the run gets as far as reading it
    truncateSync(f.b.file.path, f.b.file.size - 200)
    const now = statSync(f.b.file.path)
    const b: WrittenInput = { file: { ...f.b.file, size: now.size, mtimeMs: now.mtimeMs }, locators }
    const plan = makePlan({ recipe: testRecipe(join(f.dir, 'merged.safetensors')), inputs: [f.a.file, b.file], tasks: sd1Tasks({ ...f, b }) })
    const { events, onEvent } = recordEvents()
    const err = await amalgamErrorOf(executePlan(plan, options(f, { onEvent, threads: 2 })))
    expect(err.code).toBe('FILE_UNREADABLE')
    expect(err.message).toContain(f.b.file.path)
    expect(err.message).not.toContain('\n')
    const failed = events.filter((e) => e.type === 'failed')
    expect(failed).toEqual([{ type: 'failed', error: { code: 'FILE_UNREADABLE', message: err.message } }])
    expect(events.at(-1)?.type).toBe('failed')
    expect(existsSync(plan.output.path)).toBe(false)
    expect(leftovers(f.dir)).toEqual([])
  })

  it('refuses an input that changed after it was planned', async () => {
    const f = await sd1Fixture()
    const plan = sd1Plan(f)
    writeFileSync(f.b.file.path, readFileSync(f.b.file.path).subarray(0, 100))
    const err = await amalgamErrorOf(executePlan(plan, options(f)))
    expect(err.code).toBe('FILE_UNREADABLE')
    expect(err.message).toMatch(new RegExp(`^${f.b.file.path}: the file changed after the merge was planned`))
  })

  it('does not replace an existing output unless the plan says so', async () => {
    const f = await sd1Fixture()
    const plan = sd1Plan(f)
    writeFileSync(plan.output.path, 'precious')
    const err = await amalgamErrorOf(executePlan(plan, options(f)))
    expect(err.code).toBe('OUTPUT_EXISTS')
    expect(readFileSync(plan.output.path, 'utf8')).toBe('precious')
    await executePlan({ ...plan, output: { ...plan.output, overwrite: true } }, options(f))
    expect(readOutput(plan.output.path).header[MID_PROJ]).toBeDefined()
  })
})

describe('executePlan: warnings, statistics and lineage', () => {
  it('warns about NaN and about values the output dtype cannot hold', async () => {
    const dir = tempDir()
    const a = await writeInput(join(dir, 'a.safetensors'), 'a', [
      { key: IN00, dtype: 'F32', shape: [4], data: Float32Array.from([Infinity, 1, 2, 3]) },
      { key: MID_PROJ, dtype: 'F32', shape: [3], data: Float32Array.from([70000, 1, -70000]) },
    ])
    const b = await writeInput(join(dir, 'b.safetensors'), 'b', [
      { key: IN00, dtype: 'F32', shape: [4], data: Float32Array.from([-Infinity, 1, 2, 3]) },
      { key: MID_PROJ, dtype: 'F32', shape: [3], data: Float32Array.from([70000, 1, -70000]) },
    ])
    const task = (key: string, shape: number[]): TaskSpec => ({
      key,
      dtype: 'F16',
      shape,
      action: mergeAction(method('weighted_sum', [leaf(locatorOf(a, key)), leaf(locatorOf(b, key))], { alpha: 0.3 })),
      block: 'IN00',
    })
    const plan = makePlan({ recipe: testRecipe(join(dir, 'nan.safetensors')), inputs: [a.file, b.file], tasks: [task(IN00, [4]), task(MID_PROJ, [3])] })
    const { events, onEvent } = recordEvents()
    const lineage = await executePlan(plan, options({ dir }, { onEvent }))
    const warnings = events.filter((e) => e.type === 'warning')
    expect(warnings).toEqual([
      { type: 'warning', key: IN00, message: '1 of 4 merged values are NaN or infinite' },
      { type: 'warning', key: MID_PROJ, message: '2 merged values are too large for F16 and became ±inf' },
    ])
    expect(lineage.warnings).toEqual([`${IN00}: 1 of 4 merged values are NaN or infinite`, `${MID_PROJ}: 2 merged values are too large for F16 and became ±inf`])
  })

  it('records per-block mean |output − a| equal to a float64 computation', async () => {
    const f = await sd1Fixture()
    const plan = sd1Plan(f)
    const lineage = await executePlan(plan, options(f, { threads: 2, chunkElements: 50 }))
    const expected = Object.entries(MERGED).map(([key, block]) => {
      const a = viaF16(f.values.a[key]!)
      const merged = expectedMerge(f, key)
      const sum = merged.reduce((s, x, i) => s + Math.abs(x - a[i]!), 0)
      return { block, meanAbsChange: sum / a.length, elements: a.length }
    })
    expect(lineage.blockStats.map((s) => s.block)).toEqual(expected.map((s) => s.block))
    lineage.blockStats.forEach((s, i) => {
      expect(s.elements).toBe(expected[i]!.elements)
      expect(s.meanAbsChange).toBeCloseTo(expected[i]!.meanAbsChange, 12)
    })
  })

  it('writes a lineage sidecar that validates against its schema and names the inputs by their hashes', async () => {
    const f = await sd1Fixture()
    const plan = sd1Plan(f)
    const { events, onEvent } = recordEvents()
    const lineage = await executePlan(plan, options(f, { onEvent }))
    const path = join(f.dir, 'merged.lineage.json')
    const onDisk = Lineage.parse(JSON.parse(readFileSync(path, 'utf8')))
    expect(onDisk).toEqual(lineage)
    expect(events.at(-1)).toEqual({ type: 'done', path: plan.output.path, lineagePath: path, durationMs: lineage.durationMs, lineage })
    const out = readOutput(plan.output.path)
    expect(lineage.output).toEqual({ path: plan.output.path, size: readFileSync(plan.output.path).length, tensorSha256: sha256Hex(out.data), keys: plan.tasks.length, dtype: 'fp16' })
    const aBytes = readFileSync(f.a.file.path)
    expect(lineage.inputs[0]).toMatchObject({ role: 'a', path: f.a.file.path, size: aBytes.length, sha256: sha256Hex(aBytes), tensorSha256: sha256Hex(aBytes.subarray(f.a.file.dataStart!)) })
    expect(lineage.engine.backend).toBe('wasm')
    expect(lineage.engine.gpuUnavailableReason).toBe('AMALGAM_BACKEND=wasm')
    // products run natively when the addon is built, else on tfjs's wasm kernel with the reason
    expect(lineage.engine.matMul).toMatch(/^(native \((avx2|portable)\)|wasm \(.+\))$/)
    expect(lineage.recipe).toEqual(plan.recipe)
    expect(leftovers(f.dir)).toEqual([])
  })

  it('copies a sidecar .yaml of a beside the output', async () => {
    const f = await sd1Fixture()
    const yaml = join(f.dir, 'a.yaml')
    writeFileSync(yaml, 'model:\n  params:\n    parameterization: "v"\n')
    const plan = { ...sd1Plan(f), output: { ...sd1Plan(f).output, sidecarYaml: yaml } }
    await executePlan(plan, options(f))
    expect(readFileSync(join(f.dir, 'merged.yaml'), 'utf8')).toBe(readFileSync(yaml, 'utf8'))
    expect(leftovers(f.dir)).toEqual([])
  })
})
