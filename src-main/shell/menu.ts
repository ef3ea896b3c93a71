import { app, Menu, type MenuItemConstructorOptions } from 'electron'
import type { MenuActions } from '../services/menu-actions'

/** File (add library folder, open recipe), Edit, View, Help; macOS also gets its app and Window menus. */
export function buildAppMenu(actions: MenuActions, isMac: boolean = process.platform === 'darwin'): Menu {
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Add Library Folder…', accelerator: 'CmdOrCtrl+Shift+O', click: () => void actions.addLibraryFolder() },
      { label: 'Open Recipe…', accelerator: 'CmdOrCtrl+O', click: () => void actions.openRecipe() },
      { type: 'separator' },
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  }
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      // developer tools only in unpackaged builds
      ...(app.isPackaged ? [] : [{ type: 'separator' } as const, { role: 'toggleDevTools' } as const]),
    ],
  }
  const help: MenuItemConstructorOptions = { role: 'help', submenu: [{ label: 'About Amalgam', click: () => app.showAboutPanel() }] }
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' } as const] : []),
    file,
    { role: 'editMenu' },
    view,
    ...(isMac ? [{ role: 'windowMenu' } as const] : []),
    help,
  ]
  return Menu.buildFromTemplate(template)
}
