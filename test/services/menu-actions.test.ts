import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { EventMessage } from '../../src-main/services/events'
import { createMenuActions } from '../../src-main/services/menu-actions'
import { useTempDir } from '../formats/support'
import { testApp, type TestApp } from './support/app'
import { recordingDesktop } from './support/recording-backends'

const tempDir = useTempDir()
const apps: TestApp[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.services.shutdown()
})

function actions(open: string[]) {
  const app = testApp(join(tempDir(), 'data'))
  apps.push(app)
  const desktop = recordingDesktop({ open })
  const errors: string[] = []
  const seen: EventMessage[] = []
  app.services.events.subscribe((m) => void seen.push(m))
  const menu = createMenuActions({ desktop: desktop.desktop, library: app.services.library, events: app.services.events, showError: (title, message) => void errors.push(`${title}: ${message}`) })
  return { app, desktop, errors, seen, menu }
}

describe('File menu actions', () => {
  it('Add Library Folder asks for a folder and adds it', async () => {
    const folder = tempDir()
    const { app, desktop, menu, errors } = actions([folder])
    await menu.addLibraryFolder()
    expect(desktop.calls).toEqual([{ method: 'openDialog', args: [{ kind: 'folder', title: 'Add a library folder' }] }])
    expect(app.services.settings.get().libraryFolders).toEqual([folder])
    expect(errors).toEqual([])
  })

  it('does nothing when the dialog is cancelled', async () => {
    const { app, menu, errors } = actions([])
    await menu.addLibraryFolder()
    await menu.openRecipe()
    expect(app.services.settings.get().libraryFolders).toEqual([])
    expect(errors).toEqual([])
  })

  it('Open Recipe validates the file and hands the recipe to the renderer', async () => {
    const dir = tempDir()
    const path = join(dir, 'mix.json')
    writeFileSync(path, JSON.stringify({ format: 'amalgam.recipe', version: 1, merge: { method: 'weighted_sum', inputs: [{ model: '/m/a' }, { model: '/m/b' }] }, output: { path: '/o/m.safetensors' } }))
    const { menu, seen, errors } = actions([path])
    await menu.openRecipe()
    expect(errors).toEqual([])
    expect(seen).toEqual([{ channel: 'recipe.opened', payload: { path, recipe: expect.objectContaining({ seed: 0, merge: expect.objectContaining({ method: 'weighted_sum' }) }) } }])
  })

  it('shows an error naming the file and the problem', async () => {
    const dir = tempDir()
    const path = join(dir, 'broken.json')
    writeFileSync(path, JSON.stringify({ format: 'amalgam.recipe', version: 1, merge: { method: 'weighted_sum', inputs: [] }, output: { path: '/o' } }))
    const { menu, seen, errors } = actions([path])
    await menu.openRecipe()
    expect(seen).toEqual([])
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^Could not open the recipe: ${path}: merge\\.inputs: `))])
  })
})
