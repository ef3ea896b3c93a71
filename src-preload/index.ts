// The sandboxed preload: builds `window.amalgam` from the channel lists — one function per invoke
// channel, one subscription per event channel, and the dropped-file path lookup. The page never
// gets ipcRenderer itself; main validates every request (services/dispatch.ts).
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron'
import { EVENT_CHANNELS, INVOKE_CHANNELS } from '../src-main/common/ipc-channels'

const invoke = Object.fromEntries(INVOKE_CHANNELS.map((channel) => [channel, (request: unknown) => ipcRenderer.invoke(channel, request)]))

const events = Object.fromEntries(
  EVENT_CHANNELS.map((channel) => [
    channel,
    (listener: (payload: unknown) => void) => {
      // the page sees the payload only, never the IpcRendererEvent (which carries `sender`)
      const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload)
      ipcRenderer.on(channel, forward)
      return () => void ipcRenderer.removeListener(channel, forward)
    },
  ]),
)

contextBridge.exposeInMainWorld(
  'amalgam',
  Object.freeze({ ...invoke, events: Object.freeze(events), pathForFile: (file: File) => webUtils.getPathForFile(file) }),
)
