import { afterEach, describe, expect, it } from 'vitest'
import type { MergePreset } from '../../src-main/common/ipc'
import { closeClean, modelsFolder, useModels, waitForReady } from './support/flows'
import { openAmalgam, type Amalgam } from './support/serve'

let amalgam: Amalgam | null = null
afterEach(async () => {
  const open = amalgam
  amalgam = null
  await closeClean(open)
})

async function open(): Promise<Amalgam> {
  amalgam = await openAmalgam({ engine: 'scripted', libraries: (dir) => [modelsFolder(dir)] })
  return amalgam
}

/** Saves the builder's recipe as a merge preset and reads it back from the app's own services. */
async function savedRecipe(app: Amalgam, name: string): Promise<MergePreset['recipe']> {
  await app.page.getByRole('textbox', { name: 'Merge preset name' }).fill(name)
  await app.page.getByRole('button', { name: 'Save merge preset' }).click()
  await app.page.getByText(`Saved “${name}”.`).waitFor()
  const preset = app.services.presets.list().find((p) => p.name === name)
  if (preset?.kind !== 'merge') throw new Error(`no merge preset "${name}" was saved`)
  return preset.recipe
}

describe('merge builder', () => {
  it('fills the slots from the library and runs the pre-flight check before Merge', async () => {
    const { page, workDir } = await open()
    const merge = page.getByRole('button', { name: 'Merge', exact: true })
    await expect(merge.isDisabled()).resolves.toBe(true)
    await useModels(page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
    await page.getByRole('group', { name: 'Model a' }).getByText('anime-v3.safetensors').waitFor()
    await expect(page.getByRole('textbox', { name: 'Output name' }).inputValue()).resolves.toBe('anime-v3+photo-real-weighted_sum')
    await expect(page.getByRole('textbox', { name: 'Output folder' }).inputValue()).resolves.toBe(`${workDir}/models`)
    await waitForReady(page)
    const summary = page.getByRole('region', { name: 'Pre-flight summary' })
    await summary.getByText('ready to merge').waitFor()
    await summary.getByText('all inputs are SD 1.x').waitFor()
    await summary.getByText('3 keys that are not weights are copied from a').waitFor()
    await expect(merge.isEnabled()).resolves.toBe(true)
    await amalgam?.screenshot('builder-ready')

    await useModels(page, { b: 'xl-turbo.safetensors' })
    await summary.getByText('b (xl-turbo.safetensors) is SDXL, but a (anime-v3.safetensors) is SD 1.x: they cannot be merged key by key').waitFor()
    await page.getByText(/^Blocked: b \(xl-turbo\.safetensors\) is SDXL/).waitFor()
    await expect(merge.isDisabled()).resolves.toBe(true)
    await amalgam?.screenshot('builder-blocked')
  })

  it('takes a library row dragged onto a slot, and explains why a file from the computer cannot be dropped here', async () => {
    const { page } = await open()
    const slotB = page.getByRole('group', { name: 'Model b' })
    await page.getByRole('row', { name: 'sd15-base.safetensors' }).dragTo(slotB)
    await slotB.getByText('sd15-base.safetensors').waitFor()

    // a drop from the system's file manager: a File without a path the page could learn
    const dataTransfer = await page.evaluateHandle("(() => { const t = new DataTransfer(); t.items.add(new File(['x'], 'mine.safetensors')); return t })()")
    const slotA = page.getByRole('group', { name: 'Model a' })
    await slotA.dispatchEvent('drop', { dataTransfer })
    await slotA
      .getByRole('alert')
      .getByText('mine.safetensors: files dropped from your computer can only be used in the desktop app; here, drag a library row or use Browse…', { exact: true })
      .waitFor()
  })

  it('finds a method by its description and cost words, and shows the slots and controls it asks for', async () => {
    const { page } = await open()
    await page.getByRole('button', { name: 'Change method…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Choose a merge method' })
    await dialog.getByRole('searchbox', { name: 'Search methods' }).fill('sorting sign')
    const ties = dialog.getByRole('button', { name: 'Use method TIES (sd-mecha) (ties_sum)' })
    await ties.waitFor()
    await expect(dialog.getByRole('button', { name: /^Use method Weighted sum/ }).count()).resolves.toBe(0)
    await amalgam?.screenshot('builder-method-picker')
    await ties.click()
    await dialog.waitFor({ state: 'detached' })

    await page.getByRole('group', { name: 'Model base' }).waitFor()
    await page.getByText(/choose the base model/).first().waitFor()
    // an enum with its option's description, a switch, and a number with a hard minimum
    await expect(page.getByRole('combobox', { name: 'sign election' }).isVisible()).resolves.toBe(true)
    const stock = page.getByRole('switch', { name: 'apply model stock (TIES-STOCK)' })
    await expect(stock.getAttribute('aria-checked')).resolves.toBe('false')
    await stock.click()
    await expect(stock.getAttribute('aria-checked')).resolves.toBe('true')
    await page.getByRole('spinbutton', { name: 'cosine epsilon' }).fill('-1')
    await expect(page.getByRole('alert').filter({ hasText: 'cosine epsilon' }).textContent()).resolves.toBe('cosine epsilon: must be at least 0')
    await page.getByRole('button', { name: '+ Add model c' }).click()
    await page.getByRole('group', { name: 'Model c' }).waitFor()
  })

  it('edits per-block values on the U-shaped diagram with presets, a gradient and per-key rules', async () => {
    const app = await open()
    const { page } = app
    await useModels(page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
    await page.getByRole('button', { name: 'alpha per block' }).click()
    const diagram = page.getByRole('group', { name: 'alpha per block' })
    await diagram.getByRole('slider', { name: 'alpha OUT11' }).waitFor()
    await expect(diagram.getByRole('slider').count()).resolves.toBe(26)
    await page.getByRole('combobox', { name: 'alpha block preset' }).selectOption({ label: 'GRAD_V' })
    const text = page.getByRole('textbox', { name: 'alpha values in block order' })
    await expect(text.inputValue()).resolves.toBe('0,1,0.916667,0.833333,0.75,0.666667,0.583333,0.5,0.416667,0.333333,0.25,0.166667,0.0833333,0,0.0833333,0.166667,0.25,0.333333,0.416667,0.5,0.583333,0.666667,0.75,0.833333,0.916667,1')
    await amalgam?.screenshot('builder-blocks')

    // keyboard: the block sliders are native range inputs
    await diagram.getByRole('slider', { name: 'alpha M00' }).focus()
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('ArrowRight')
    await expect(text.inputValue()).resolves.toMatch(/^0,1,(?:[^,]+,){11}0\.02,/)
    let recipe = await savedRecipe(app, 'per block')
    expect(recipe.merge.params['alpha']).toMatchObject({ blocks: { BASE: 0, IN00: 1, M00: 0.02, OUT11: 1 } })

    // a typed line of values, supermerger style
    await text.fill('0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5')
    await page.getByText('expected 26 values, got 25').waitFor()
    await text.fill('0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,1,1,1,1,1,1,1,1,1,1,1')
    await text.press('Enter')
    await expect(diagram.getByRole('slider', { name: 'alpha M00' }).inputValue()).resolves.toBe('1')

    await page.getByRole('radio', { name: 'Gradient' }).check()
    await page.getByRole('spinbutton', { name: 'alpha anchor 1' }).fill('0')
    await page.getByRole('spinbutton', { name: 'alpha anchor 2' }).fill('1')
    await page.getByRole('button', { name: 'Add alpha anchor' }).click()
    await page.getByRole('spinbutton', { name: 'alpha anchor 3' }).fill('0.2')
    await page.getByRole('img', { name: /^alpha over blocks: BASE 0, IN00 0, .*M00 1, .*OUT11 0\.2$/ }).waitFor()

    await page.getByRole('button', { name: 'Add alpha key rule' }).click()
    const pattern = page.getByRole('textbox', { name: 'alpha rule 1 pattern' })
    await pattern.fill('attn(')
    await page.getByText(/Unterminated group/).first().waitFor()
    await expect(pattern.getAttribute('aria-invalid')).resolves.toBe('true')
    await page.getByText(/fix alpha key rule 1/).first().waitFor()
    await pattern.fill('\\.attn\\d\\.')
    await page.getByRole('spinbutton', { name: 'alpha rule 1 value' }).fill('0.25')
    await waitForReady(page)
    recipe = await savedRecipe(app, 'gradient')
    expect(recipe.merge.params['alpha']).toEqual({ gradient: [0, 1, 0.2], keys: [{ pattern: '\\.attn\\d\\.', value: 0.25 }] })
  })

  it('paints a curve over the blocks with the pointer, as one undo step', async () => {
    const { page } = await open()
    await useModels(page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
    await page.getByRole('button', { name: 'alpha per block' }).click()
    const curve = page.getByRole('img', { name: /^alpha over blocks/ })
    const box = await curve.boundingBox()
    if (!box) throw new Error('the curve is not on screen')
    await page.mouse.move(box.x + 2, box.y + box.height - 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width - 2, box.y + box.height - 2, { steps: 40 })
    await page.mouse.up()
    const text = page.getByRole('textbox', { name: 'alpha values in block order' })
    await expect(text.inputValue()).resolves.toBe(Array(26).fill('0').join(','))
    await page.getByRole('button', { name: 'Undo' }).click()
    await expect(text.inputValue()).resolves.toBe(Array(26).fill('0.5').join(','))
  })

  it('lays out Flux blocks as double and single strips with a generated curve preset', async () => {
    const { page } = await open()
    await useModels(page, { a: 'flux-schnell.safetensors', b: 'flux-schnell.safetensors' })
    await page.getByRole('button', { name: 'alpha per block' }).click()
    const diagram = page.getByRole('group', { name: 'alpha per block' })
    await expect(diagram.getByRole('group', { name: 'double blocks' }).getByRole('slider').count()).resolves.toBe(19)
    await expect(diagram.getByRole('group', { name: 'single blocks' }).getByRole('slider').count()).resolves.toBe(38)
    await expect(diagram.getByRole('group', { name: 'other layers' }).getByRole('slider').count()).resolves.toBe(6)
    const preset = page.getByRole('combobox', { name: 'alpha block preset' })
    await expect(preset.locator('optgroup[label="generated curve"] option').allTextContents()).resolves.toEqual(['RAMP'])
    await preset.selectOption({ label: 'RAMP' })
    await expect(diagram.getByRole('slider', { name: 'alpha final_layer' }).inputValue()).resolves.toBe('1')
    await page.getByRole('combobox', { name: 'T5 text encoder' }).waitFor()
    await amalgam?.screenshot('builder-flux-blocks')
  })

  it('switches the block convention the values refer to', async () => {
    const app = await open()
    const { page } = app
    await useModels(page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
    await page.getByRole('button', { name: 'alpha per block' }).click()
    await page.getByRole('combobox', { name: 'Block convention' }).selectOption({ label: 'supermerger 2023-07' })
    await page.getByText(/convention supermerger 2023-07/).waitFor()
    const recipe = await savedRecipe(app, 'old convention')
    expect(recipe.blocks).toEqual({ name: 'supermerger', version: '2023-07' })
  })

  it('undoes and redoes every edit, with one step per slider gesture', async () => {
    const { page } = await open()
    await useModels(page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
    const slotB = page.getByRole('group', { name: 'Model b' })
    await page.locator('body').click()
    await page.keyboard.press('Control+z')
    await slotB.getByText(/^Empty/).waitFor()
    await page.keyboard.press('Control+Shift+z')
    await slotB.getByText('photo-real.safetensors').waitFor()

    const alpha = page.getByRole('slider', { name: 'alpha', exact: true })
    await alpha.focus()
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight')
    await expect(page.getByRole('spinbutton', { name: 'alpha', exact: true }).inputValue()).resolves.toBe('0.55')
    await page.getByRole('button', { name: 'Undo' }).click()
    await expect(page.getByRole('spinbutton', { name: 'alpha', exact: true }).inputValue()).resolves.toBe('0.5')
    await page.getByRole('button', { name: 'Redo' }).click()
    await expect(page.getByRole('spinbutton', { name: 'alpha', exact: true }).inputValue()).resolves.toBe('0.55')
  })

  it('writes component choices and output options into the recipe', async () => {
    const app = await open()
    const { page } = app
    await useModels(page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
    await page.getByRole('combobox', { name: 'VAE' }).selectOption({ label: 'take from b' })
    await page.getByRole('combobox', { name: 'CLIP-L text encoder' }).selectOption({ label: 'drop (leave out of the file)' })
    await page.getByRole('combobox', { name: 'Output dtype' }).selectOption('bf16')
    await page.getByRole('switch', { name: 'Embed the recipe in the file' }).click()
    await page.getByRole('textbox', { name: 'Output name' }).fill('private')
    await page.getByText('Keys and options').click()
    await page.getByRole('switch', { name: 'Reset CLIP position ids' }).click()
    await waitForReady(page)
    const recipe = await savedRecipe(app, 'options')
    expect(recipe.components).toEqual({ vae: { take: 1 }, clip_l: 'drop' })
    expect(recipe.output).toEqual({ path: `${app.workDir}/models/private.safetensors`, dtype: 'bf16', embedRecipe: false })
    expect(recipe.options.resetPositionIds).toBe(true)
  })
})
