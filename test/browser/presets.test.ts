import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { PresetsFile } from '../../src-main/common/presets-file'
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
  await useModels(amalgam.page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
  await waitForReady(amalgam.page)
  return amalgam
}

describe('presets', () => {
  it('saves, renames, loads and deletes a merge preset', async () => {
    const { page } = await open()
    await page.getByRole('spinbutton', { name: 'alpha', exact: true }).fill('0.3')
    await page.getByRole('textbox', { name: 'Merge preset name' }).fill('soft blend')
    await page.getByRole('button', { name: 'Save merge preset' }).click()
    await page.getByText('Saved “soft blend”.').waitFor()

    await page.getByRole('tab', { name: 'Presets' }).click()
    const merges = page.getByRole('region', { name: 'Merge presets' })
    await merges.getByText('soft blend').waitFor()
    await merges.getByRole('button', { name: 'Rename preset soft blend' }).click()
    await merges.getByRole('textbox', { name: 'New name for soft blend' }).fill('anime × photo 30%')
    await merges.getByRole('button', { name: 'Save', exact: true }).click()
    await merges.getByText('anime × photo 30%').waitFor()

    await page.getByRole('spinbutton', { name: 'alpha', exact: true }).fill('0.9')
    await merges.getByRole('button', { name: 'Load preset anime × photo 30% into the builder' }).click()
    await page.getByText('Loaded the merge preset “anime × photo 30%”.').waitFor()
    await expect(page.getByRole('spinbutton', { name: 'alpha', exact: true }).inputValue()).resolves.toBe('0.3')
    await amalgam?.screenshot('presets')

    await merges.getByRole('button', { name: 'Delete preset anime × photo 30%' }).click()
    await merges.getByRole('button', { name: 'Confirm deleting preset anime × photo 30%' }).click()
    await page.getByText('No presets yet.', { exact: false }).waitFor()
  })

  it('saves block values as a block preset and offers it in the block editor', async () => {
    const { page } = await open()
    await page.getByRole('button', { name: 'alpha per block' }).click()
    await page.getByRole('combobox', { name: 'alpha block preset' }).selectOption({ label: 'GRAD_A' })
    await page.getByRole('textbox', { name: 'New block preset name' }).fill('my ramp')
    await page.getByRole('button', { name: 'Save block preset' }).click()
    await page.getByText('Saved “my ramp”.').waitFor()
    const gradA = await page.getByRole('textbox', { name: 'alpha values in block order' }).inputValue()

    await page.getByRole('radio', { name: 'One value' }).check()
    const picker = page.getByRole('combobox', { name: 'alpha block preset' })
    await expect(picker.locator('optgroup[label="your presets"] option').allTextContents()).resolves.toEqual(['my ramp'])
    await expect(picker.locator('optgroup[label="supermerger"] option').count()).resolves.toBe(6)
    await picker.selectOption({ label: 'my ramp' })
    await expect(page.getByRole('radio', { name: 'Per block' }).isChecked()).resolves.toBe(true)
    await expect(page.getByRole('textbox', { name: 'alpha values in block order' }).inputValue()).resolves.toBe(gradA)
  })

  it('exports presets to a file and imports them back', async () => {
    const app = await open()
    const { page } = app
    await page.getByRole('textbox', { name: 'Merge preset name' }).fill('to share')
    await page.getByRole('button', { name: 'Save merge preset' }).click()
    await page.getByText('Saved “to share”.').waitFor()
    await page.getByRole('tab', { name: 'Presets' }).click()

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export all…' }).click()])
    expect(download.suggestedFilename()).toBe('amalgam-presets.json')
    const file = await download.path()
    const exported = PresetsFile.parse(JSON.parse(readFileSync(file, 'utf8')))
    expect(exported.presets.map((p) => p.name)).toEqual(['to share'])

    await page.getByRole('button', { name: 'Delete preset to share' }).click()
    await page.getByRole('button', { name: 'Confirm deleting preset to share' }).click()
    await page.getByText('No presets yet.', { exact: false }).waitFor()

    await page.getByLabel('Import presets file').setInputFiles(file)
    await page.getByText(/^Imported 1 preset from /).waitFor()
    await page.getByRole('region', { name: 'Merge presets' }).getByText('to share').waitFor()
    expect(app.services.presets.list().map((p) => p.name)).toEqual(['to share'])
  })

  it('shows why a presets file cannot be imported', async () => {
    const { page } = await open()
    await page.getByRole('tab', { name: 'Presets' }).click()
    await page.getByLabel('Import presets file').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('GRAD_V\t0,1,0.9') })
    await page.getByRole('alert').waitFor()
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^presets file: not valid JSON \(.+\)$/)
  })
})
