// `postinstall`: compiles native/, the matrix-product addon, with node-gyp. It is optional: without a
// C compiler the engine keeps tfjs's own matMul, which is about 5x slower on this project's CPUs
// (rotate, truncate_rank and LoRA extraction are bound by it). AMALGAM_REQUIRE_NATIVE=1 (set by CI)
// turns a failed build into a failed install, so a broken addon cannot hide behind the fallback.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const nativeDir = resolve(import.meta.dirname, '..', 'native')
// npm points lifecycle scripts at its bundled node-gyp; outside npm, one on PATH is used
const gyp = process.env.npm_config_node_gyp
const [command, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']]
// node-gyp downloads Node's headers unless told where they are: use the running Node's own when
// it has them (Debian's and the official builds do), so that the build works offline
const prefix = dirname(dirname(process.execPath))
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`)
const result = spawnSync(command, args, { cwd: nativeDir, stdio: 'inherit' })

if (result.status !== 0) {
  const why = result.error ? result.error.message : `node-gyp exited with ${result.status}`
  const message = `native matrix product not built (${why}); merges use tfjs's slower matMul instead`
  if (process.env.AMALGAM_REQUIRE_NATIVE === '1') {
    console.error(`error: ${message}`)
    process.exit(1)
  }
  console.warn(`warning: ${message}`)
}
