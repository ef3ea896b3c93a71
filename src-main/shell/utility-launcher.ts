import { utilityProcess } from 'electron'
import { entryPoint, type EntryPoint } from '../engine/runtime/entry-points'
import { describeExit, type MergeHostLauncher } from '../services/merge-host-launcher'

/** Merge hosts as Electron utility processes (a Node process Chromium supervises; no second Electron app). */
export function utilityLauncher(entry: EntryPoint = entryPoint('merge-host')): MergeHostLauncher {
  return {
    launch() {
      const child = utilityProcess.fork(entry.filename, [], { serviceName: 'Amalgam merge', stdio: 'inherit', execArgv: [...entry.execArgv] })
      let alive = true
      let exitListener: ((reason: string) => void) | null = null
      let exitReason: string | null = null
      child.on('exit', (code) => {
        alive = false
        exitReason = describeExit(code, null)
        exitListener?.(exitReason)
      })
      return {
        send(request) {
          if (alive) child.postMessage(request)
        },
        onMessage: (listener) => void child.on('message', listener),
        onExit(listener) {
          exitListener = listener
          if (exitReason !== null) listener(exitReason)
        },
        kill: () => void child.kill(),
      }
    },
  }
}
