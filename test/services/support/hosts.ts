import { fileURLToPath } from 'node:url'
import type { HostRequest } from '../../../src-main/merge-host/protocol'
import { forkLauncher, type MergeHostLauncher, type MergeHostProcess } from '../../../src-main/services/merge-host-launcher'

/** Real child processes running support/scripted-host.ts through tsx; counts launches. */
export function scriptedLauncher(): { launcher: MergeHostLauncher; launches(): number } {
  const inner = forkLauncher({ filename: fileURLToPath(new URL('./scripted-host.ts', import.meta.url)), execArgv: ['--import', 'tsx'] })
  let count = 0
  return {
    launcher: {
      launch() {
        count++
        return inner.launch()
      },
    },
    launches: () => count,
  }
}

/** A host that never gets ready (still starting) until it is killed: for tests that only need merge.start / cancel accepted. */
export function silentLauncher(): { launcher: MergeHostLauncher; sent: HostRequest[] } {
  const sent: HostRequest[] = []
  let exit: ((reason: string) => void) | null = null
  const host: MergeHostProcess = {
    send: (request) => void sent.push(request),
    onMessage: () => undefined,
    onExit: (listener) => void (exit = listener),
    kill: () => exit?.('signal SIGKILL'),
  }
  return { launcher: { launch: () => host }, sent }
}
