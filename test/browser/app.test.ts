import { afterEach, describe, expect, it } from 'vitest'
import { closeClean } from './support/flows'
import { openAmalgam, type Amalgam } from './support/serve'

let amalgam: Amalgam | null = null
afterEach(async () => {
  const open = amalgam
  amalgam = null
  await closeClean(open)
})

describe('the app shell', () => {
  it('says which compute backend runs merges and why the GPU is not used', async () => {
    amalgam = await openAmalgam({ engine: 'scripted' })
    const status = amalgam.page.getByRole('group', { name: 'Compute status' })
    await status.getByText('wasm (SIMD)').waitFor()
    await status.getByText('GPU not used').waitFor()
    await status.getByText('no CUDA device: @tensorflow/tfjs-node-gpu is not installed').waitFor()
    await status.getByText(/^browser · v\d+\.\d+\.\d+$/).waitFor()
  })

  it('moves between the workspace tabs with the arrow keys', async () => {
    amalgam = await openAmalgam({ engine: 'scripted' })
    const { page } = amalgam
    await page.getByRole('tab', { name: 'Library' }).focus()
    await page.keyboard.press('ArrowRight')
    await expect(page.getByRole('tab', { name: 'History' }).getAttribute('aria-selected')).resolves.toBe('true')
    await page.getByText(/^No merges yet\./).waitFor()
    await page.keyboard.press('ArrowRight')
    await page.getByText(/^No presets yet\./).waitFor()
    await expect(page.getByRole('tab', { name: 'Presets' }).evaluate((el) => el === el.ownerDocument.activeElement)).resolves.toBe(true)
  })

  it('keeps keyboard focus inside a dialog until it is closed', async () => {
    amalgam = await openAmalgam({ engine: 'scripted' })
    const { page } = amalgam
    const opener = page.getByRole('button', { name: 'Change method…' })
    await opener.focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'Choose a merge method' })
    await dialog.waitFor()
    await expect(dialog.getByRole('searchbox', { name: 'Search methods' }).evaluate((el) => el === el.ownerDocument.activeElement)).resolves.toBe(true)
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab')
      await expect(dialog.evaluate((el) => el.contains(el.ownerDocument.activeElement))).resolves.toBe(true)
    }
    await page.keyboard.press('Shift+Tab')
    await expect(dialog.evaluate((el) => el.contains(el.ownerDocument.activeElement))).resolves.toBe(true)
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    await expect(opener.evaluate((el) => el === el.ownerDocument.activeElement)).resolves.toBe(true)
  })
})
