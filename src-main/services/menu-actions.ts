import { readFile } from 'node:fs/promises'
import { describeError } from '../engine/errors'
import { parseRecipeJson } from '../engine/recipe/parse'
import type { DesktopIntegration } from './backends'
import type { EventHub } from './events'
import type { LibraryService } from './library'

/** What the desktop app's File menu does; the shell only builds the menu and shows errors. */
export interface MenuActions {
  addLibraryFolder(): Promise<void>
  /** a recipe JSON file, validated, handed to the renderer as a `recipe.opened` event */
  openRecipe(): Promise<void>
}

export interface MenuActionsOptions {
  desktop: DesktopIntegration
  library: LibraryService
  events: EventHub
  showError(title: string, message: string): void
}

export function createMenuActions({ desktop, library, events, showError }: MenuActionsOptions): MenuActions {
  return {
    async addLibraryFolder() {
      const [folder] = await desktop.openDialog({ kind: 'folder', title: 'Add a library folder' })
      if (folder === undefined) return
      try {
        await library.addFolder(folder)
      } catch (err) {
        showError('Could not add the folder', describeError(err))
      }
    },
    async openRecipe() {
      const [path] = await desktop.openDialog({ kind: 'files', title: 'Open a recipe', extensions: ['json'] })
      if (path === undefined) return
      try {
        const recipe = parseRecipeJson(await readFile(path, 'utf8'), path)
        events.emit('recipe.opened', { path, recipe })
      } catch (err) {
        showError('Could not open the recipe', describeError(err))
      }
    },
  }
}
