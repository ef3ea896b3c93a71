import { stat } from 'node:fs/promises'
import { dialog, shell, type BrowserWindow, type FileFilter, type OpenDialogOptions } from 'electron'
import { AmalgamError } from '../engine/errors'
import type { DesktopIntegration } from '../services/backends'

function filters(extensions: readonly string[] | undefined): FileFilter[] {
  return extensions && extensions.length > 0 ? [{ name: extensions.map((e) => `.${e}`).join(', '), extensions: [...extensions] }] : []
}

/** Native dialogs (attached to the main window when there is one) and the system file manager. */
export function electronDesktop(window: () => BrowserWindow | null): DesktopIntegration {
  return {
    async openDialog(request) {
      const options: OpenDialogOptions = {
        properties: request.kind === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile', 'multiSelections'],
        filters: filters(request.extensions),
        ...(request.title === undefined ? {} : { title: request.title }),
      }
      const parent = window()
      const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options)
      return result.canceled ? [] : result.filePaths
    },
    async saveDialog(request) {
      const options = {
        filters: filters(request.extensions),
        ...(request.title === undefined ? {} : { title: request.title }),
        ...(request.defaultPath === undefined ? {} : { defaultPath: request.defaultPath }),
      }
      const parent = window()
      const result = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options)
      return result.canceled || !result.filePath ? null : result.filePath
    },
    async reveal(path) {
      // showItemInFolder does nothing visible for a missing file: say so instead
      try {
        await stat(path)
      } catch {
        throw new AmalgamError('FILE_NOT_FOUND', `${path}: no such file (it may have been moved or deleted)`, path)
      }
      shell.showItemInFolder(path)
    },
  }
}
