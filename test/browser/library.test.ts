import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { closeClean, modelsFolder } from './support/flows'
import { openAmalgam, type Amalgam } from './support/serve'

let amalgam: Amalgam | null = null
afterEach(async () => {
  const open = amalgam
  amalgam = null
  await closeClean(open)
})

describe('library', () => {
  it('offers demo checkpoints on first run and lists them with their badges and problems', async () => {
    amalgam = await openAmalgam({ engine: 'scripted' })
    const { page } = amalgam
    const offer = page.getByRole('region', { name: 'Get started' })
    await offer.getByRole('heading', { name: 'Your library is empty' }).waitFor()
    await offer.getByRole('button', { name: 'Create demo checkpoints' }).click()

    const table = page.getByRole('table', { name: 'Models' })
    await table.getByRole('row', { name: 'anime-v3.safetensors' }).waitFor()
    await page.getByText('8 of 8 models').waitFor()
    const xl = table.getByRole('row', { name: 'xl-turbo.safetensors' })
    await xl.getByText('SDXL', { exact: true }).waitFor()
    await xl.getByText('bf16').waitFor()
    const inpaint = table.getByRole('row', { name: 'inpaint-sd15.safetensors' })
    await inpaint.getByText('inpainting').waitFor()
    // a broken file is listed with what is wrong, and cannot be used as an input
    const broken = table.getByRole('row', { name: 'truncated.safetensors' })
    await broken.getByText('error', { exact: true }).waitFor()
    await broken.getByText(/the header says the tensor data ends at byte 2132625408/).waitFor()
    await expect(broken.getByRole('button', { name: /^Use truncated/ }).count()).resolves.toBe(0)
    await amalgam.screenshot('library-demo')
  })

  it('searches, filters and sorts the table', async () => {
    amalgam = await openAmalgam({ engine: 'scripted', libraries: (dir) => [modelsFolder(dir)] })
    const { page } = amalgam
    const table = page.getByRole('table', { name: 'Models' })
    await table.getByRole('row', { name: 'anime-v3.safetensors' }).waitFor()
    const names = async (): Promise<string[]> => (await table.getByRole('row').all()).slice(1).map(async (r) => (await r.getAttribute('aria-label')) ?? '').reduce(async (acc, n) => [...(await acc), await n], Promise.resolve<string[]>([]))

    await page.getByRole('searchbox', { name: 'Search models' }).fill('sd15')
    expect(await names()).toEqual(['inpaint-sd15.safetensors', 'sd15-base.safetensors', 'vpred-sd15.safetensors'])
    await page.getByRole('searchbox', { name: 'Search models' }).fill('')

    await page.getByRole('combobox', { name: 'Architecture' }).selectOption('sdxl')
    expect(await names()).toEqual(['xl-turbo.safetensors'])
    await page.getByRole('combobox', { name: 'Architecture' }).selectOption('any')

    await page.getByRole('combobox', { name: 'Prediction type' }).selectOption('v')
    expect(await names()).toEqual(['vpred-sd15.safetensors'])
    await page.getByRole('combobox', { name: 'Prediction type' }).selectOption('any')

    await page.getByRole('combobox', { name: 'Size' }).selectOption('4to8')
    expect(await names()).toEqual(['sd15-base.safetensors', 'xl-turbo.safetensors'])
    await page.getByRole('combobox', { name: 'Size' }).selectOption('any')

    // size sorts largest first, then the other way
    await page.getByRole('columnheader', { name: 'Size' }).getByRole('button').click()
    expect((await names()).slice(0, 2)).toEqual(['flux-schnell.safetensors', 'xl-turbo.safetensors'])
    await expect(page.getByRole('columnheader', { name: /Size/ }).getAttribute('aria-sort')).resolves.toBe('descending')
    await page.getByRole('columnheader', { name: /Size/ }).getByRole('button').click()
    expect((await names())[0]).toBe('truncated.safetensors')
  })

  it('shows a model’s details in a drawer that Escape closes', async () => {
    amalgam = await openAmalgam({ engine: 'scripted', libraries: (dir) => [modelsFolder(dir)] })
    const { page } = amalgam
    const details = page.getByRole('button', { name: 'Details of photo-real.safetensors' })
    await details.click()
    const drawer = page.getByRole('dialog', { name: 'photo-real.safetensors' })
    await drawer.getByRole('region', { name: 'Components' }).waitFor()
    await drawer.getByRole('cell', { name: 'clip_l' }).waitFor()
    await drawer.getByText('AutoV2').waitFor()
    await amalgam.screenshot('library-details')
    await page.keyboard.press('Escape')
    await drawer.waitFor({ state: 'detached' })
    await expect(details.evaluate((el) => el === el.ownerDocument.activeElement)).resolves.toBe(true)
  })

  it('computes short hashes in the background with progress', async () => {
    amalgam = await openAmalgam({ engine: 'scripted', libraries: (dir) => [modelsFolder(dir)] })
    const { page } = amalgam
    const row = page.getByRole('row', { name: 'anime-v3.safetensors' })
    await row.getByRole('button', { name: 'Compute the hash of anime-v3.safetensors' }).click()
    await page.getByRole('progressbar', { name: 'Hashing' }).waitFor()
    await row.getByText(/^[0-9a-f]{10}$/).waitFor()
    await page.getByRole('progressbar', { name: 'Hashing' }).waitFor({ state: 'detached' })
  })

  it('adds and removes a library folder through the in-page file browser', async () => {
    amalgam = await openAmalgam({ engine: 'scripted' })
    const { page, workDir } = amalgam
    const folder = modelsFolder(workDir)
    await page.getByRole('button', { name: 'Add folder…' }).click()
    const browser = page.getByRole('dialog', { name: 'Add a folder to the library' })
    await browser.getByRole('textbox', { name: 'Folder path' }).fill(workDir)
    await browser.getByRole('button', { name: 'Go', exact: true }).click()
    await browser.getByRole('button', { name: 'Open folder models' }).click()
    await browser.getByRole('list', { name: `Contents of ${folder}` }).waitFor()
    await browser.getByRole('button', { name: 'Choose this folder' }).click()
    await browser.waitFor({ state: 'detached' })
    await page.getByRole('row', { name: 'anime-v3.safetensors' }).waitFor()

    await page.getByRole('button', { name: /1 folder: models/ }).click()
    await page.getByRole('button', { name: `Remove folder ${folder} from the library` }).click()
    await page.getByRole('heading', { name: 'Your library is empty' }).waitFor()
  })

  it('shows the error of a folder that cannot be added where the user acted', async () => {
    amalgam = await openAmalgam({ engine: 'scripted' })
    const { page, workDir } = amalgam
    await page.getByRole('button', { name: 'Add folder…' }).click()
    const browser = page.getByRole('dialog', { name: 'Add a folder to the library' })
    await browser.getByRole('textbox', { name: 'Folder path' }).fill(join(workDir, 'nowhere'))
    await browser.getByRole('button', { name: 'Go', exact: true }).click()
    await expect(browser.getByRole('alert').textContent()).resolves.toBe(`${join(workDir, 'nowhere')}: no such folder`)
    await page.keyboard.press('Escape')
    await browser.waitFor({ state: 'detached' })
  })
})
