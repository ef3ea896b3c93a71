import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ModelEntry } from '../../src-main/common/model-entry'
import { syntheticLlmLayout } from '../../src-main/engine/arch/synthetic-llm'
import { writeSyntheticCheckpoint } from '../../src-main/engine/arch/synthetic-file'
import { isAmalgamError } from '../../src-main/engine/errors'
import { HashCache } from '../../src-main/engine/library/hash-cache'
import { inspectModel } from '../../src-main/engine/library/inspect'
import { amalgamErrorOf, craftSafetensors, expectedTotals, TORCH_FIXTURES, useTempDir, writeBytes, writeJson, writeTensors, writeTiny } from './support'

const tempDir = useTempDir()

describe('inspectModel on synthetic checkpoints of every architecture', () => {
  it.each([
    { arch: 'sd1', expected: { architecture: 'sd1', variant: null, predictionType: 'eps', layout: 'ldm', components: ['unet', 'clip_l', 'vae'] } },
    { arch: 'sd2', expected: { architecture: 'sd2', variant: null, predictionType: 'unknown', layout: 'ldm', components: ['unet', 'openclip_h', 'vae'] } },
    { arch: 'sdxl', expected: { architecture: 'sdxl', variant: null, predictionType: 'eps', layout: 'sgm', components: ['unet', 'clip_l', 'clip_g', 'vae'] } },
    { arch: 'sd3', expected: { architecture: 'sd3', variant: 'medium', predictionType: 'flow', layout: 'comfy', components: ['transformer', 'clip_l', 'clip_g', 't5', 'vae', 'scheduler'] } },
    { arch: 'flux', expected: { architecture: 'flux', variant: 'dev', predictionType: 'flow', layout: 'comfy', components: ['transformer', 'clip_l', 't5', 'vae'] } },
  ] as const)('$arch', async ({ arch, expected }) => {
    const path = join(tempDir(), `${arch}.safetensors`)
    const layout = await writeTiny(path, arch, { dtype: 'F16', metadata: { 'modelspec.title': `tiny ${arch}`, ss_sd_model_name: 'base.ckpt' } })
    const entry = await inspectModel(path)
    expect(ModelEntry.parse(entry)).toEqual(entry)
    const { components, ...rest } = expected
    expect(entry).toMatchObject({ ...rest, path, name: `${arch}.safetensors`, format: 'safetensors', status: 'ok', problem: null, keys: layout.length, recipe: null, llm: null })
    expect(entry.components.map((c) => c.id)).toEqual(components)
    // independent totals: the layout's shapes, float tensors stored as F16
    const totals = expectedTotals(layout.map((t) => ({ shape: t.shape, dtype: t.dtype.startsWith('F') || t.dtype === 'BF16' ? 'F16' : t.dtype })))
    expect(entry.params).toBe(totals.params)
    expect(entry.dtypes).toEqual(totals.dtypes)
    expect(entry.components.reduce((sum, c) => sum + c.params, 0)).toBe(totals.params)
    expect(entry.metadata).toEqual({ 'modelspec.title': `tiny ${arch}`, ss_sd_model_name: 'base.ckpt', format: 'pt' })
    expect(entry.hashes).toEqual({ sha256: null, autov2: null, autov1: null, tensorSha256: null, autov3: null })
  })

  it('reports variants and prediction markers: inpainting, v-prediction, schnell', async () => {
    const dir = tempDir()
    await writeTiny(join(dir, 'inpaint.safetensors'), 'sd1', { synthetic: { variant: 'inpainting' } })
    await writeTiny(join(dir, 'vpred.safetensors'), 'sdxl', { synthetic: { prediction: 'v' } })
    await writeTiny(join(dir, 'schnell.safetensors'), 'flux', { synthetic: { variant: 'schnell' } })
    expect(await inspectModel(join(dir, 'inpaint.safetensors'))).toMatchObject({ architecture: 'sd1', variant: 'inpainting' })
    expect(await inspectModel(join(dir, 'vpred.safetensors'))).toMatchObject({ architecture: 'sdxl', predictionType: 'v', predictionSource: 'marker key v_pred' })
    expect(await inspectModel(join(dir, 'schnell.safetensors'))).toMatchObject({ architecture: 'flux', variant: 'schnell' })
  })

  it('reads the A1111 sidecar .yaml next to an SD2 file (768-v)', async () => {
    const dir = tempDir()
    const path = join(dir, 'sd2-768.safetensors')
    await writeTiny(path, 'sd2')
    writeFileSync(join(dir, 'sd2-768.yaml'), 'model:\n  params:\n    parameterization: "v"\n')
    expect(await inspectModel(path)).toMatchObject({ architecture: 'sd2', predictionType: 'v', predictionSource: 'sidecar .yaml (parameterization: v)' })
  })

  it('describes an LLM file: family, layers, widths, tied head', async () => {
    const path = join(tempDir(), 'qwen.safetensors')
    const layout = syntheticLlmLayout('qwen2', { layers: 3, hidden: 8, intermediate: 16, vocab: 32, heads: 2, kvHeads: 1, tied: true })
    await writeSyntheticCheckpoint(path, layout, { seed: 3 })
    const entry = await inspectModel(path)
    expect(entry).toMatchObject({ architecture: 'llm', layout: 'hf', keys: layout.length, params: expectedTotals(layout).params, dtypes: { BF16: expectedTotals(layout).params } })
    expect(entry.llm).toEqual({ family: 'qwen2', layers: 3, hiddenSize: 8, vocabSize: 32, tiedEmbeddings: true })
    expect(entry.components).toEqual([{ id: 'llm', keys: layout.length, params: expectedTotals(layout).params }])
  })

  it('parses the embedded Amalgam recipe and notes one that is not JSON', async () => {
    const dir = tempDir()
    const recipe = { format: 'amalgam.recipe', version: 1, merge: { method: 'weighted_sum', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], params: {} }, output: { path: 'c.safetensors' } }
    await writeTiny(join(dir, 'merged.safetensors'), 'sd1', { metadata: { 'amalgam.recipe': JSON.stringify(recipe) } })
    await writeTiny(join(dir, 'broken.safetensors'), 'sd1', { metadata: { 'amalgam.recipe': '{"format": ' } })
    expect((await inspectModel(join(dir, 'merged.safetensors'))).recipe).toEqual(recipe)
    const broken = await inspectModel(join(dir, 'broken.safetensors'))
    expect(broken.recipe).toBeNull()
    expect(broken.notes).toContain('the amalgam.recipe metadata is not valid JSON; ignored')
  })

  it('takes hashes from the hash cache when the file is unchanged', async () => {
    const dir = tempDir()
    const path = join(dir, 'm.safetensors')
    await writeTiny(path, 'sd1')
    const cache = new HashCache(join(dir, 'cache'))
    const first = await inspectModel(path, { hashCache: cache })
    const hashes = { sha256: 'a'.repeat(64), autov2: 'a'.repeat(10), autov1: 'b'.repeat(8), tensorSha256: 'c'.repeat(64), autov3: 'c'.repeat(12) }
    await cache.set({ path, size: first.size, mtimeMs: first.mtimeMs }, hashes)
    expect((await inspectModel(path, { hashCache: cache })).hashes).toEqual(hashes)
  })

  it('lists LoRA files with their details, and files with dtypes it cannot compute on as unsupported', async () => {
    const dir = tempDir()
    await writeTensors(join(dir, 'lora.safetensors'), [
      { key: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', shape: [4, 8] },
      { key: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight', shape: [8, 4] },
    ])
    const lora = await inspectModel(join(dir, 'lora.safetensors'))
    expect(lora).toMatchObject({ architecture: 'lora', status: 'ok', lora: { baseArchitecture: 'sd1', networkTypes: ['lora'], rank: 4, alpha: null, modules: 1 } })
    const e8m0 = writeBytes(join(dir, 'mx.safetensors'), craftSafetensors({ 'model.w': { dtype: 'F8_E8M0', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)))
    expect(await inspectModel(e8m0)).toMatchObject({ status: 'unsupported', problem: 'unsupported: F8_E8M0', dtypes: { F8_E8M0: 4 } })
  })
})

describe('inspectModel on malformed and hostile files', () => {
  it.each([
    ['empty', new Uint8Array(0), /too short for the 8-byte header length/],
    ['huge header length', craftSafetensors('{}', new Uint8Array(0), 2n ** 63n), /larger than the 100000000-byte limit/],
    ['header not JSON', craftSafetensors('{"a": '), /header is not valid JSON/],
    ['overlapping tensors', craftSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /overlap/],
    ['truncated data', craftSafetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /truncated file\?/],
    ['GGUF under a safetensors name', Uint8Array.from([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, 0, 0, 0, 0]), /GGUF/],
  ])('%s: status error with a one-line problem naming the file', async (_name, bytes, problem) => {
    const path = writeBytes(join(tempDir(), 'bad.safetensors'), bytes)
    const entry = await inspectModel(path)
    expect(ModelEntry.parse(entry)).toEqual(entry)
    expect(entry.status).toBe('error')
    expect(entry.problem).toMatch(problem)
    expect(entry.problem!.startsWith(`${path}: `)).toBe(true)
    expect(entry.problem).not.toContain('\n')
  })

  const fixtures = readdirSync(TORCH_FIXTURES).filter((name) => /\.(ckpt|pt|pth)$/.test(name))

  it.each(fixtures)('torch fixture %s: read, or an error entry with its problem', async (name) => {
    const entry = await inspectModel(join(TORCH_FIXTURES, name))
    const bad = /^(hostile|bad|truncated|missing|no-data|short|compressed|zip-bomb|torchscript)/.test(name)
    expect(entry.status).toBe(bad ? 'error' : 'ok')
    if (bad) expect(entry.problem).toMatch(new RegExp(`^${join(TORCH_FIXTURES, name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `))
    if (name.startsWith('hostile')) expect(entry.problem).toMatch(/refused: the pickle calls .* nothing was executed/)
    if (name === 'sd1-tiny.ckpt') expect(entry).toMatchObject({ format: 'ckpt', architecture: 'sd1', predictionType: 'eps' })
  })

  it('throws for a path that does not exist, and for a folder that is not a model folder', async () => {
    const dir = tempDir()
    const missing = await amalgamErrorOf(inspectModel(join(dir, 'nope.safetensors')))
    expect(missing.code).toBe('FILE_NOT_FOUND')
    const folder = await amalgamErrorOf(inspectModel(dir))
    expect(folder.code).toBe('UNSUPPORTED_FORMAT')
    expect(folder.message).toMatch(/is a folder, not a model folder/)
  })

  it('an unreadable symlink target is an error entry, not a crash', async () => {
    const dir = tempDir()
    symlinkSync(join(dir, 'gone.safetensors'), join(dir, 'dangling.safetensors'))
    const err: unknown = await inspectModel(join(dir, 'dangling.safetensors')).catch((e: unknown) => e)
    expect(isAmalgamError(err, 'FILE_NOT_FOUND')).toBe(true)
  })
})

describe('model folders', () => {
  const qwen = syntheticLlmLayout('qwen2', { layers: 4, hidden: 8, intermediate: 16, vocab: 32, heads: 2, kvHeads: 1, tied: false })

  async function hfFolder(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true })
    const half = Math.floor(qwen.length / 2)
    const shards = [qwen.slice(0, half), qwen.slice(half)]
    const weightMap: Record<string, string> = {}
    for (const [i, shard] of shards.entries()) {
      const name = `model-0000${i + 1}-of-00002.safetensors`
      await writeSyntheticCheckpoint(join(dir, name), shard, { seed: i })
      for (const t of shard) weightMap[t.key] = name
    }
    writeJson(join(dir, 'model.safetensors.index.json'), { metadata: { total_size: 0 }, weight_map: weightMap })
    writeJson(join(dir, 'config.json'), { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 8, vocab_size: 32, num_hidden_layers: 4 })
    writeFileSync(join(dir, 'tokenizer.json'), '{}')
  }

  it('a Hugging Face folder is one entry: shards through the index, LLM details from config.json', async () => {
    const dir = join(tempDir(), 'Qwen-tiny')
    await hfFolder(dir)
    const entry = await inspectModel(dir)
    expect(ModelEntry.parse(entry)).toEqual(entry)
    const totals = expectedTotals(qwen)
    expect(entry).toMatchObject({ path: dir, name: 'Qwen-tiny', format: 'hf-folder', architecture: 'llm', layout: 'hf', keys: qwen.length, params: totals.params, status: 'ok', problem: null })
    expect(entry.llm).toEqual({ family: 'qwen2', layers: 4, hiddenSize: 8, vocabSize: 32, tiedEmbeddings: false })
  })

  it('a shard index that names a file outside the folder, or lists a missing shard, is an error entry', async () => {
    const dir = join(tempDir(), 'evil')
    await hfFolder(dir)
    writeJson(join(dir, 'model.safetensors.index.json'), { weight_map: { 'model.embed_tokens.weight': '../../etc/passwd' } })
    expect(await inspectModel(dir)).toMatchObject({ status: 'error', problem: expect.stringMatching(/names the shard "..\/..\/etc\/passwd", which is not a file in the folder/) })
    writeJson(join(dir, 'model.safetensors.index.json'), { weight_map: { 'model.embed_tokens.weight': 'model-00009-of-00009.safetensors' } })
    expect(await inspectModel(dir)).toMatchObject({ status: 'error', problem: expect.stringMatching(/model-00009-of-00009\.safetensors: file not found/) })
    writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weight_map": ')
    expect(await inspectModel(dir)).toMatchObject({ status: 'error', problem: expect.stringMatching(/index\.json: is not valid JSON/) })
  })

  it('a diffusers folder is one entry: the UNet decides the family, the scheduler the prediction type', async () => {
    const dir = join(tempDir(), 'sd15-diffusers')
    for (const sub of ['unet', 'text_encoder', 'vae', 'tokenizer', 'scheduler']) mkdirSync(join(dir, sub), { recursive: true })
    writeJson(join(dir, 'model_index.json'), {
      _class_name: 'StableDiffusionPipeline',
      _diffusers_version: '0.30.0',
      unet: ['diffusers', 'UNet2DConditionModel'],
      text_encoder: ['transformers', 'CLIPTextModel'],
      vae: ['diffusers', 'AutoencoderKL'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      scheduler: ['diffusers', 'PNDMScheduler'],
    })
    writeJson(join(dir, 'scheduler', 'scheduler_config.json'), { _class_name: 'PNDMScheduler', prediction_type: 'v_prediction' })
    await writeTensors(join(dir, 'unet', 'diffusion_pytorch_model.safetensors'), [
      { key: 'conv_in.weight', shape: [4, 4, 3, 3] },
      { key: 'down_blocks.0.resnets.0.conv1.weight', shape: [4, 4, 3, 3] },
      { key: 'mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight', shape: [8, 768] },
      { key: 'up_blocks.0.resnets.0.conv1.weight', shape: [4, 4, 3, 3] },
    ])
    await writeTensors(join(dir, 'text_encoder', 'model.safetensors'), [
      { key: 'text_model.embeddings.position_embedding.weight', shape: [77, 768] },
      { key: 'text_model.encoder.layers.0.self_attn.q_proj.weight', shape: [4, 4] },
    ])
    await writeTensors(join(dir, 'vae', 'diffusion_pytorch_model.fp16.safetensors'), [
      { key: 'encoder.conv_in.weight', shape: [4, 3, 3, 3] },
      { key: 'decoder.conv_in.weight', shape: [4, 4, 3, 3] },
    ])
    const entry = await inspectModel(dir)
    expect(ModelEntry.parse(entry)).toEqual(entry)
    expect(entry).toMatchObject({ format: 'diffusers-folder', architecture: 'sd1', layout: 'diffusers', predictionType: 'v', status: 'unsupported', keys: 8 })
    expect(entry.predictionSource).toBe('scheduler/scheduler_config.json (prediction_type: v_prediction)')
    expect(entry.components).toEqual([
      { id: 'unet', keys: 4, params: 144 + 144 + 8 * 768 + 144 },
      { id: 'clip_l', keys: 2, params: 77 * 768 + 16 },
      { id: 'vae', keys: 2, params: 108 + 144 },
    ])
  })
})
