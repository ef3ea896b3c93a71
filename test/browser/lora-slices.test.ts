import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { MergePreset } from '../../src-main/common/ipc'
import type { DesktopIntegration } from '../../src-main/services/backends'
import { expectClose, readAll, writeModel } from '../plan/support'
import { kohya, naiveDelta, shapeOf, writeLora } from '../lora/support'
import { writeHfFolder } from '../llm/support'
import { closeClean, modelsFolder, useModels, waitForReady } from './support/flows'
import { openAmalgam, type Amalgam } from './support/serve'

let amalgam: Amalgam | null = null
let scratch: string | null = null
afterEach(async () => {
  const open = amalgam
  amalgam = null
  try {
    await closeClean(open)
  } finally {
    if (scratch !== null) rmSync(scratch, { recursive: true, force: true })
    scratch = null
  }
})

/** The desktop app's open dialog, answering with `file` and recording what it was asked. */
function openDialogAnswering(file: () => string) {
  const asked: unknown[] = []
  const desktop: DesktopIntegration = {
    async openDialog(request) {
      asked.push(request)
      return [file()]
    },
    saveDialog: async () => null,
    reveal: async () => undefined,
  }
  return { desktop, asked }
}

async function savedRecipe(app: Amalgam, name: string): Promise<MergePreset['recipe']> {
  await app.page.getByRole('textbox', { name: 'Merge preset name' }).fill(name)
  await app.page.getByRole('button', { name: 'Save merge preset' }).click()
  await app.page.getByText(`Saved “${name}”.`).waitFor()
  const preset = app.services.presets.list().find((p) => p.name === name)
  if (preset?.kind !== 'merge') throw new Error(`no merge preset "${name}" was saved`)
  return preset.recipe
}

describe('LoRAs in the builder', () => {
  it('attaches a LoRA to a slot by browsing, sets its strength from the keyboard and a block preset, and the recipe wraps the slot in a LoRA node', async () => {
    let loraPath = ''
    const dialogs = openDialogAnswering(() => loraPath)
    amalgam = await openAmalgam({
      engine: 'scripted',
      libraries: (dir) => [modelsFolder(dir)],
      desktop: (dir) => {
        const folder = join(dir, 'loras')
        mkdirSync(folder)
        loraPath = join(folder, 'detail.safetensors')
        writeFileSync(loraPath, 'a LoRA stand-in\n')
        return dialogs.desktop
      },
    })
    const { page, workDir } = amalgam
    await useModels(page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
    const slotA = page.getByRole('group', { name: 'Model a' })
    await slotA.getByText('anime-v3.safetensors').waitFor()

    await slotA.getByRole('button', { name: 'Add LoRA to model a…' }).click()
    const chooser = slotA.getByRole('group', { name: 'Choose LoRAs for model a' })
    await chooser.getByRole('button', { name: 'Browse for a LoRA file…' }).click()
    const row = slotA.getByRole('group', { name: 'LoRA detail.safetensors on model a' })
    await row.waitFor()
    expect(dialogs.asked).toEqual([{ kind: 'files', title: 'Choose a LoRA for model a', extensions: ['safetensors'] }])
    await expect(chooser.count()).resolves.toBe(0)

    const slider = row.getByRole('slider', { name: 'Strength of detail.safetensors' })
    await slider.focus()
    for (let i = 0; i < 5; i++) await slider.press('ArrowLeft')
    await expect(row.getByRole('spinbutton', { name: 'Strength of detail.safetensors' }).inputValue()).resolves.toBe('0.75')
    await row.getByRole('combobox', { name: 'Block weights of detail.safetensors' }).selectOption('MIDD')
    await amalgam.screenshot('builder-lora-attached')

    await page.getByText('Keys and options').click()
    await page.getByRole('combobox', { name: 'Language models whose vocabularies differ' }).selectOption({ label: 'take embeddings, head and tokenizer from b' })

    const recipe = await savedRecipe(amalgam, 'with lora')
    expect(recipe.merge.inputs).toEqual([
      { lora: { model: join(workDir, 'models', 'anime-v3.safetensors') }, loras: [{ path: loraPath, strength: 0.75, blocks: 'MIDD' }] },
      { model: join(workDir, 'models', 'photo-real.safetensors') },
    ])
    expect(recipe.options.vocabulary).toEqual({ take: 1 })

    // undo steps back through the edits: the vocabulary, then the preset
    await page.getByRole('button', { name: 'Undo' }).click()
    await page.getByRole('button', { name: 'Undo' }).click()
    await expect(row.getByRole('combobox', { name: 'Block weights of detail.safetensors' }).inputValue()).resolves.toBe('')
    await row.getByRole('button', { name: 'Remove LoRA detail.safetensors from model a' }).click()
    await expect(row.count()).resolves.toBe(0)
    await page.getByRole('button', { name: 'Redo', exact: true }).waitFor()
  })
})

describe('with the real engine', () => {
  it('bakes a LoRA chosen from the library into model a of a weighted sum', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'amalgam-lora-browser-'))
    const library = join(scratch, 'models')
    mkdirSync(library)
    await writeModel(join(library, 'a.safetensors'), { seed: 1, dtype: 'F32' })
    await writeModel(join(library, 'b.safetensors'), { seed: 2, dtype: 'F32' })
    const q = 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight'
    const [rows, ...inner] = shapeOf('sd1', q)
    if (rows === undefined) throw new Error(`no shape for ${q}`)
    const rank = 4
    const alpha = 2
    const [module] = await writeLora(join(library, 'detail.safetensors'), [kohya('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', rows, inner, rank, alpha)], 7)
    if (!module) throw new Error('the LoRA was not written')

    amalgam = await openAmalgam({ engine: 'real', libraries: () => [library] })
    const { page } = amalgam
    await useModels(page, { a: 'a.safetensors', b: 'b.safetensors' })
    const slotA = page.getByRole('group', { name: 'Model a' })
    await slotA.getByRole('button', { name: 'Add LoRA to model a…' }).click()
    const chooser = slotA.getByRole('group', { name: 'Choose LoRAs for model a' })
    await chooser.getByRole('checkbox', { name: /^detail\.safetensors/ }).check()
    await chooser.getByRole('button', { name: 'Attach LoRA' }).click()
    const row = slotA.getByRole('group', { name: 'LoRA detail.safetensors on model a' })
    await row.getByRole('spinbutton', { name: 'Strength of detail.safetensors' }).fill('0.5')
    await waitForReady(page)
    await page.getByRole('button', { name: 'Merge', exact: true }).click()
    const result = page.getByRole('region', { name: 'Merge result' })
    await result.getByText('done', { exact: true }).waitFor({ timeout: 120_000 })
    const output = await result.locator('code').first().textContent()
    if (output === null) throw new Error('the result names no output file')

    // out = a + 0.5 · (b − a) with a carrying the LoRA's delta: up · down · alpha / rank · strength
    const [a, b, merged] = await Promise.all([readAll(join(library, 'a.safetensors')), readAll(join(library, 'b.safetensors')), readAll(output)])
    const delta = naiveDelta(module)
    const scale = (alpha / rank) * 0.5
    const aq = a.get(q)?.values
    const bq = b.get(q)?.values
    if (!aq || !bq) throw new Error(`the inputs lack ${q}`)
    const expected = Float64Array.from(aq, (x, i) => 0.5 * (x + scale * (delta[i] ?? Number.NaN)) + 0.5 * (bq[i] ?? Number.NaN))
    expectClose(merged.get(q)?.values ?? [], expected)
    const untouched = 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_k.weight'
    const ak = a.get(untouched)?.values ?? []
    const bk = b.get(untouched)?.values ?? []
    expectClose(merged.get(untouched)?.values ?? [], Float64Array.from(ak, (x, i) => 0.5 * x + 0.5 * (bk[i] ?? Number.NaN)))
    const [entry] = amalgam.services.history.list()
    expect(entry?.recipe.merge.inputs[0]).toEqual({ lora: { model: join(library, 'a.safetensors') }, loras: [{ path: join(library, 'detail.safetensors'), strength: 0.5 }] })
  })

  it('builds a frankenmerge from slices of two language models, flags a range beyond a model and counts the output’s layers', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'amalgam-slices-browser-'))
    const library = join(scratch, 'models')
    await writeHfFolder(join(library, 'llama-small'), { seed: 1 })
    await writeHfFolder(join(library, 'llama-deep'), { seed: 2, shape: { layers: 6 } })
    amalgam = await openAmalgam({ engine: 'real', libraries: () => [library] })
    const { page } = amalgam
    await useModels(page, { a: 'llama-small' })
    await page.getByRole('button', { name: 'Change method…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Choose a merge method' })
    await dialog.getByRole('searchbox', { name: 'Search methods' }).fill('passthrough')
    await dialog.getByRole('button', { name: /^Use method .*\(passthrough\)$/ }).click()
    await dialog.waitFor({ state: 'detached' })

    const editor = page.getByRole('region', { name: 'Layer slices (frankenmerge)' })
    const depth = editor.getByRole('status')
    await editor.getByRole('button', { name: '+ Add slice' }).click()
    await depth.getByText('Output depth: 4 layers').waitFor()
    await editor.getByRole('spinbutton', { name: 'End layer of slice 1 (exclusive)' }).fill('3')
    await editor.getByRole('button', { name: '+ Add slice' }).click()
    const second = editor.getByRole('group', { name: 'Slice 2' })
    await second.getByRole('combobox', { name: 'Model of slice 2' }).selectOption({ label: 'llama-deep (6 layers)' })
    await second.getByRole('spinbutton', { name: 'First layer of slice 2' }).fill('2')
    const end = second.getByRole('spinbutton', { name: 'End layer of slice 2 (exclusive)' })
    await end.fill('7')
    await second.getByText('Slice 2: the model has 6 layers: the end (exclusive) can be at most 6').waitFor()
    await end.fill('6')
    await depth.getByText('Output depth: 7 layers').waitFor()
    await expect(second.getByText(/can be at most/).count()).resolves.toBe(0)
    // reordered from the keyboard, then back
    await second.getByRole('button', { name: 'Move slice 2 up' }).press('Enter')
    await expect(editor.getByRole('combobox', { name: 'Model of slice 1' }).inputValue()).resolves.toBe(join(library, 'llama-deep'))
    await editor.getByRole('button', { name: 'Move slice 1 down' }).click()
    await amalgam.screenshot('builder-slices')
    await waitForReady(page)

    const recipe = await savedRecipe(amalgam, 'franken')
    expect(recipe.merge).toEqual({ method: 'passthrough', inputs: [{ model: join(library, 'llama-small') }], params: {} })
    expect(recipe.slices).toEqual([
      { model: join(library, 'llama-small'), layers: [0, 3] },
      { model: join(library, 'llama-deep'), layers: [2, 6] },
    ])
  })

  it('refuses language models whose vocabularies differ until a vocabulary policy is chosen, next to the slots or in the options', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'amalgam-vocab-browser-'))
    const library = join(scratch, 'models')
    await writeHfFolder(join(library, 'llama-one'), { seed: 1 })
    await writeHfFolder(join(library, 'llama-two'), { seed: 2, shape: { vocab: 48 } })
    amalgam = await openAmalgam({ engine: 'real', libraries: () => [library] })
    const { page } = amalgam
    await useModels(page, { a: 'llama-one', b: 'llama-two' })
    await page.getByText(/^Blocked: the vocabularies differ/).waitFor()
    // the slots say so, with the policy at hand; the same setting is in "Keys and options"
    const notice = page.getByRole('group', { name: 'Vocabularies differ' })
    await notice.getByText('The vocabularies differ (a: 40 tokens, b: 48 tokens)', { exact: false }).waitFor()
    await notice.getByRole('combobox', { name: 'Vocabulary of the output' }).selectOption({ label: 'fit to a’s vocabulary (merge the shared rows)' })
    await waitForReady(page)
    await page.getByRole('region', { name: 'Pre-flight summary' }).getByText(/rows only a has are a's/).first().waitFor()
    await page.getByText('Keys and options').click()
    const policy = page.getByRole('combobox', { name: 'Language models whose vocabularies differ' })
    await expect(policy.inputValue()).resolves.toBe('fit-to-a')
    await policy.selectOption({ label: 'take embeddings, head and tokenizer from b' })
    await waitForReady(page)
    await page.getByRole('region', { name: 'Pre-flight summary' }).getByText(/are taken from input 1/).first().waitFor()
  })
})
