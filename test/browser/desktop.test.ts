import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DesktopIntegration } from '../../src-main/services/backends'
import { writeDemoModels } from './support/demo-catalogue'
import { closeClean, modelsFolder, useModels, waitForReady } from './support/flows'
import { openAmalgam, type Amalgam } from './support/serve'

let amalgam: Amalgam | null = null
afterEach(async () => {
  const open = amalgam
  amalgam = null
  await closeClean(open)
})

/** Native dialogs that answer with the choices set in `answers` and record what they were asked. */
function nativeDialogs() {
  const answers: { folder?: string; file?: string } = {}
  const asked: { open: unknown[]; revealed: string[] } = { open: [], revealed: [] }
  const desktop: DesktopIntegration = {
    async openDialog(request) {
      asked.open.push(request)
      const answer = request.kind === 'folder' ? answers.folder : answers.file
      return answer === undefined ? [] : [answer]
    },
    saveDialog: async () => null,
    async reveal(path) {
      asked.revealed.push(path)
    },
  }
  return { desktop, asked, answers }
}

describe('in the desktop app', () => {
  it('adds a library folder and picks a model with the native open dialog', async () => {
    const dialogs = nativeDialogs()
    amalgam = await openAmalgam({
      engine: 'scripted',
      desktop: (dir) => {
        const folder = join(dir, 'picked')
        mkdirSync(folder)
        writeDemoModels(folder)
        dialogs.answers.folder = folder
        dialogs.answers.file = join(folder, 'sd15-base.safetensors')
        return dialogs.desktop
      },
    })
    const { page, workDir } = amalgam
    await page.getByText(/^desktop · /).waitFor()
    await page.getByRole('button', { name: 'Add folder…' }).click()
    await page.getByRole('row', { name: 'anime-v3.safetensors' }).waitFor()
    await expect(page.getByRole('dialog').count()).resolves.toBe(0)

    await page.getByRole('button', { name: 'Browse for model b' }).click()
    await page.getByRole('group', { name: 'Model b' }).getByText('sd15-base.safetensors').waitFor()
    expect(dialogs.asked.open).toEqual([
      { kind: 'folder', title: 'Add a folder to the library' },
      { kind: 'files', title: 'Choose model b', extensions: ['safetensors', 'ckpt', 'pt'] },
    ])
    expect(amalgam.services.settings.get().libraryFolders).toEqual([join(workDir, 'picked')])
  })

  it('reveals a merged file in the system’s file manager', async () => {
    const dialogs = nativeDialogs()
    amalgam = await openAmalgam({ engine: 'scripted', libraries: (dir) => [modelsFolder(dir)], desktop: () => dialogs.desktop })
    const { page, workDir } = amalgam
    await useModels(page, { a: 'anime-v3.safetensors', b: 'photo-real.safetensors' })
    await page.getByRole('textbox', { name: 'Output name' }).fill('shown')
    await waitForReady(page)
    await page.getByRole('button', { name: 'Merge', exact: true }).click()
    const result = page.getByRole('region', { name: 'Merge result' })
    await result.getByRole('button', { name: 'Reveal in folder' }).click()
    await expect.poll(() => dialogs.asked.revealed).toEqual([join(workDir, 'models', 'shown.safetensors')])
  })
})
