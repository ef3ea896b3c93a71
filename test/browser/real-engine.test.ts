import { existsSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { closeClean, waitForReady } from './support/flows'
import { openAmalgam, type Amalgam } from './support/serve'

let amalgam: Amalgam | null = null
afterEach(async () => {
  const open = amalgam
  amalgam = null
  await closeClean(open)
})

// The first-run path of a new user, end to end on the real engine (library, planner, architecture
// data, merge host), with nothing scripted.
describe('with the real engine', () => {
  it('creates the demo checkpoints and merges two of them', async () => {
    amalgam = await openAmalgam({ engine: 'real' })
    const { page } = amalgam
    await page.getByRole('button', { name: 'Create demo checkpoints' }).click()
    const useAsA = page.getByRole('button', { name: /^Use .+ as a$/ })
    await useAsA.first().waitFor({ timeout: 60_000 })
    await useAsA.nth(0).click()
    await page.getByRole('button', { name: /^Use .+ as b$/ }).nth(1).click()
    // the block editor on the engine's own architecture data: the demo models are SD 1.x
    await page.getByRole('button', { name: 'alpha per block' }).click()
    await expect(page.getByRole('group', { name: 'alpha per block' }).getByRole('slider').count()).resolves.toBe(26)
    await page.getByRole('combobox', { name: 'alpha block preset' }).selectOption({ label: 'GRAD_V' })
    await waitForReady(page)
    await page.getByRole('region', { name: 'Pre-flight summary' }).getByText('ready to merge').waitFor()
    await amalgam.screenshot('real-engine-ready')
    await page.getByRole('button', { name: 'Merge', exact: true }).click()
    const result = page.getByRole('region', { name: 'Merge result' })
    await result.getByText('done', { exact: true }).waitFor({ timeout: 120_000 })
    const path = await result.locator('code').first().textContent()
    expect(path !== null && existsSync(path)).toBe(true)
    await expect(result.getByRole('group', { name: 'Change per block' }).getByRole('img').count()).resolves.toBeGreaterThan(0)
    await amalgam.screenshot('real-engine-done')
    await page.getByText('merged', { exact: true }).waitFor()
    const [entry] = amalgam.services.history.list()
    expect(entry?.status).toBe('done')
    expect(entry?.recipe.merge.params['alpha']).toMatchObject({ blocks: { IN00: 1, M00: 0, OUT11: 1 } })
  })
})
