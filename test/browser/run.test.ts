import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
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

/** a + b ready to merge into models/<name>.safetensors */
async function prepare(page: Page, name: string): Promise<void> {
  await useModels(page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
  await page.getByRole('textbox', { name: 'Output name' }).fill(name)
  await waitForReady(page)
}

describe('running a merge', () => {
  it('shows live progress and warnings, then the result with its per-block heatmap', async () => {
    const app = await open()
    const { page, workDir } = app
    await prepare(page, 'blend')
    await page.getByRole('button', { name: 'Merge', exact: true }).click()
    const progress = page.getByRole('region', { name: 'Merge progress' })
    await progress.getByRole('progressbar', { name: 'Merge progress' }).waitFor()
    await progress.getByText(/^key \d+ of 24$/).waitFor()
    await progress.getByText(/MB\/s/).waitFor()
    await progress.getByRole('list', { name: 'Merge warnings' }).getByText('the result has 2 NaN values; they were replaced by a’s values').waitFor()
    await app.screenshot('run-progress')

    const result = page.getByRole('region', { name: 'Merge result' })
    await result.getByText('done', { exact: true }).waitFor()
    const output = join(workDir, 'models', 'blend.safetensors')
    await result.getByText(output, { exact: true }).waitFor()
    expect(existsSync(output)).toBe(true)
    // browser mode cannot open a file manager on the server's machine
    await expect(result.getByRole('button', { name: 'Reveal in folder' }).count()).resolves.toBe(0)
    const heatmap = result.getByRole('group', { name: 'Change per block' })
    await expect(heatmap.getByRole('img').count()).resolves.toBe(26)
    await heatmap.getByRole('img', { name: /^IN00: mean change 0\.007$/ }).waitFor()
    await page.getByRole('status').filter({ hasText: 'Merge finished: blend.safetensors.' }).waitFor({ state: 'attached' })
    await app.screenshot('run-done')

    await page.getByRole('tab', { name: 'History' }).click()
    const entry = page.getByRole('list', { name: 'Past merges' }).getByRole('listitem').first()
    await entry.getByText('done', { exact: true }).waitFor()
    await entry.getByText('blend.safetensors', { exact: true }).waitFor()
  })

  it('lists the merged file as a merge, with its recipe and ancestry', async () => {
    const { page } = await open()
    await prepare(page, 'child')
    await page.getByRole('button', { name: 'Merge', exact: true }).click()
    await page.getByRole('region', { name: 'Merge result' }).getByText('done', { exact: true }).waitFor()
    const row = page.getByRole('row', { name: 'child.safetensors' })
    await row.getByText('merged').waitFor()
    await row.getByRole('button', { name: 'Details of child.safetensors' }).click()
    const drawer = page.getByRole('dialog', { name: 'child.safetensors' })
    const tree = drawer.getByRole('tree', { name: 'Ancestry of child.safetensors' })
    await tree.getByRole('treeitem', { name: /anime-v3\.safetensors/ }).waitFor()
    await tree.getByRole('treeitem', { name: /photo-real\.safetensors/ }).waitFor()
    await drawer.getByRole('group', { name: 'Change per block' }).waitFor()
    await drawer.getByRole('button', { name: 'Load into builder' }).click()
    await page.getByText('Loaded the recipe embedded in child.safetensors.').waitFor()
  })

  it('cancels a running merge and says so', async () => {
    const { page, workDir } = await open()
    await prepare(page, 'slow-one')
    await page.getByRole('button', { name: 'Merge', exact: true }).click()
    await page.getByRole('region', { name: 'Merge progress' }).getByText(/^key \d+ of 600$/).waitFor()
    await expect(page.getByRole('button', { name: 'Merge', exact: true }).isDisabled()).resolves.toBe(true)
    await page.getByText('A merge is running: wait for it, or cancel it.').waitFor()
    await page.getByRole('button', { name: 'Cancel merge' }).click()
    const result = page.getByRole('region', { name: 'Merge result' })
    await result.getByText('The merge was cancelled; nothing was written.').waitFor()
    expect(existsSync(join(workDir, 'models', 'slow-one.safetensors'))).toBe(false)
    await page.getByRole('tab', { name: 'History' }).click()
    await page.getByRole('list', { name: 'Past merges' }).getByText('cancelled', { exact: true }).waitFor()
  })

  it('shows a failed merge and its error where the user looks', async () => {
    const app = await open()
    const { page } = app
    await prepare(page, 'fail-one')
    await page.getByRole('button', { name: 'Merge', exact: true }).click()
    const result = page.getByRole('region', { name: 'Merge result' })
    await result.getByText('failed', { exact: true }).waitFor()
    await expect(result.getByRole('alert').textContent()).resolves.toMatch(/: needs 3\.1 GB of working memory, 2\.0 GB are free; lower the chunk size or close other programs$/)
    await app.screenshot('run-failed')
  })

  it('loads a past merge back into the builder and runs one again', async () => {
    const { page } = await open()
    await prepare(page, 'again')
    await page.getByRole('button', { name: 'Merge', exact: true }).click()
    await page.getByRole('region', { name: 'Merge result' }).getByText('done', { exact: true }).waitFor()

    await page.getByRole('spinbutton', { name: 'alpha', exact: true }).fill('0.8')
    await page.getByRole('tab', { name: 'History' }).click()
    await page.getByRole('button', { name: 'Load the recipe of again.safetensors into the builder' }).click()
    await page.getByText('Loaded the recipe of again.safetensors from the history.').waitFor()
    await expect(page.getByRole('spinbutton', { name: 'alpha', exact: true }).inputValue()).resolves.toBe('0.5')

    await page.getByRole('button', { name: 'Run again.safetensors again' }).click()
    await page.getByRole('list', { name: 'Past merges' }).getByRole('listitem').nth(1).waitFor()
    await expect(page.getByRole('list', { name: 'Past merges' }).getByText('done', { exact: true }).count()).resolves.toBe(2)
  })
})
