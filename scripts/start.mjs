// `npm start`: build the app, then run it in Electron. The electron package downloads its binary on
// first use; this script does that step itself (not by importing `electron`, which exits the process
// from inside the module when the download fails) so a machine without the binary gets a clear way out.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { createRequire } from 'node:module'

const root = resolve(import.meta.dirname, '..')
const require = createRequire(join(root, 'package.json'))

function run(args) {
  return spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status ?? 1
}

const viteBin = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js')
const built = run([viteBin, 'build'])
if (built !== 0) process.exit(built)

const electronDir = dirname(require.resolve('electron/package.json'))

/** The binary the electron package would run, or null when it is not on disk. */
function electronBinary() {
  const pathFile = join(electronDir, 'path.txt')
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8') : null
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) return join(process.env.ELECTRON_OVERRIDE_DIST_PATH, relative ?? 'electron')
  const full = relative ? join(electronDir, 'dist', relative) : null
  return full && existsSync(full) ? full : null
}

let binary = electronBinary()
let downloadError = 'no download attempted'
if (!binary) {
  console.log('Electron is not downloaded yet; fetching it (once)...')
  const install = spawnSync(process.execPath, [join(electronDir, 'install.js')], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' })
  // the installer prints a stack trace; its first line says what went wrong
  downloadError = install.stderr.split('\n').find((line) => line.trim() !== '') ?? `installer exit code ${install.status}`
  binary = electronBinary()
}
if (!binary) {
  console.error(
    `\nThe desktop app cannot start: no Electron binary is available on this machine, and downloading it ` +
      `failed (${downloadError.trim()}). The electron npm package fetches its binary from GitHub on first use; ` +
      'set ELECTRON_MIRROR or ELECTRON_OVERRIDE_DIST_PATH if you have another source. The app is built, so you ' +
      'can use it in a browser instead: run `npx amalgam serve` and open the address it prints.',
  )
  process.exit(1)
}

const child = spawn(binary, ['.'], { cwd: root, stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
