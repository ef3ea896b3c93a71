import { fork } from 'node:child_process'
import type { HostRequest } from '../merge-host/protocol'
import { entryPoint, type EntryPoint } from '../engine/runtime/entry-points'

/** A running merge host process, as the supervisor sees it (the transport differs between Electron and Node). */
export interface MergeHostProcess {
  send(request: HostRequest): void
  onMessage(listener: (message: unknown) => void): void
  /** called once, when the process is gone, with why: "exit code 1", "signal SIGKILL", "could not start: ..." */
  onExit(listener: (reason: string) => void): void
  /** ends it now, without letting it clean up: for a host that ignores cancel or shutdown */
  kill(): void
}

/** Starts merge hosts: utilityProcess in the desktop app (shell/), child_process.fork in serve mode and tests. */
export interface MergeHostLauncher {
  launch(): MergeHostProcess
}

export function describeExit(code: number | null, signal: string | null): string {
  return code !== null ? `exit code ${code}` : `signal ${signal ?? 'unknown'}`
}

/** A host as a Node child process; `entry` defaults to the real host (tests inject scripted ones). */
export function forkLauncher(entry: EntryPoint = entryPoint('merge-host')): MergeHostLauncher {
  return {
    launch() {
      const child = fork(entry.filename, [], { execArgv: [...entry.execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      let exitListener: ((reason: string) => void) | null = null
      let exitReason: string | null = null
      const exited = (reason: string): void => {
        if (exitReason !== null) return
        exitReason = reason
        exitListener?.(reason)
      }
      child.on('exit', (code, signal) => exited(describeExit(code, signal)))
      child.on('error', (err) => {
        // 'error' without a later 'exit' means the process never started (or could not be killed)
        if (child.pid === undefined) exited(`could not start: ${err.message}`)
      })
      return {
        send(request) {
          // a send racing the host's death is not an error here: the exit handler reports the job
          if (child.connected) child.send(request, () => undefined)
        },
        onMessage: (listener) => void child.on('message', listener),
        onExit(listener) {
          exitListener = listener
          if (exitReason !== null) listener(exitReason)
        },
        kill: () => void child.kill('SIGKILL'),
      }
    },
  }
}
