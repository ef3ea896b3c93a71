/**
 * Channel names only: the preload imports this file and nothing else from the app, so its sandboxed
 * bundle stays tiny. Schemas for each channel are in ipc.ts (type-checked to cover exactly these names).
 */
export const INVOKE_CHANNELS = [
  'app.status',
  'settings.get',
  'settings.update',
  'library.list',
  'library.addFolder',
  'library.removeFolder',
  'library.rescan',
  'library.inspect',
  'library.hash',
  'library.createDemo',
  'methods.list',
  'architecture.info',
  'merge.preview',
  'merge.start',
  'merge.cancel',
  'presets.list',
  'presets.save',
  'presets.rename',
  'presets.delete',
  'presets.import',
  'history.list',
  'history.delete',
  'files.list',
  'files.reveal',
  'dialog.open',
  'dialog.save',
] as const

export const EVENT_CHANNELS = ['merge.event', 'library.changed', 'library.progress', 'recipe.opened'] as const

export type InvokeChannel = (typeof INVOKE_CHANNELS)[number]
export type EventChannel = (typeof EVENT_CHANNELS)[number]
