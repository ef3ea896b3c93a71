import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron'
import { INVOKE_CHANNELS } from '../common/ipc-channels'
import type { Dispatcher } from '../services/dispatch'
import type { EventHub } from '../services/events'
import type { ProblemReporter } from '../services/store'
import { isAppUrl } from './app-scheme'

/**
 * Why an IPC call does not come from our page, or null when it does: one of our windows (by
 * webContents id), its main frame (not an iframe), showing our app:// origin.
 */
export function untrustedSenderReason(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, trusted: ReadonlySet<number>): string | null {
  if (!trusted.has(event.sender.id)) return 'the sender is not an Amalgam window'
  const frame = event.senderFrame
  if (!frame) return 'the sending frame is gone'
  if (frame !== event.sender.mainFrame) return 'only the main frame may call the app'
  if (!isAppUrl(frame.url)) return `the sending page (${frame.url}) is not the app`
  return null
}

/** Every invoke channel goes through the dispatcher, after the sender check. */
export function registerIpc(dispatcher: Dispatcher, trusted: ReadonlySet<number>, report: ProblemReporter): void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, (event, payload: unknown) => {
      const refused = untrustedSenderReason(event, trusted)
      if (refused === null) return dispatcher.dispatch(channel, payload)
      report(`refused ${channel}: ${refused}`)
      return { ok: false, error: { code: 'FORBIDDEN', message: `${channel}: ${refused}` } }
    })
  }
}

/** Contract events to our windows; a window closing mid-merge is skipped, not an error. */
export function forwardEvents(events: EventHub, targets: () => readonly WebContents[]): () => void {
  return events.subscribe(({ channel, payload }) => {
    for (const contents of targets()) if (!contents.isDestroyed()) contents.send(channel, payload)
  })
}
