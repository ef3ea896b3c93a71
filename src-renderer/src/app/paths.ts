/*
 * Path text for display and for composing the output path. The renderer has no node:path; paths
 * come from main (absolute, in the host's own style), so the separator is read from the path itself.
 */

function separatorOf(path: string): '/' | '\\' {
  return path.includes('\\') && !path.includes('/') ? '\\' : '/'
}

export function basename(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '')
  const at = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'))
  return at < 0 ? trimmed : trimmed.slice(at + 1)
}

/** '' for a bare file name */
export function dirname(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '')
  const at = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'))
  if (at < 0) return ''
  if (at === 0) return trimmed.slice(0, 1)
  return trimmed.slice(0, at)
}

export function joinPath(folder: string, name: string): string {
  if (folder === '') return name
  const sep = separatorOf(folder)
  return folder.endsWith('/') || folder.endsWith('\\') ? `${folder}${name}` : `${folder}${sep}${name}`
}

/** a file name without its checkpoint extension, for labels and suggested output names */
export function stem(path: string): string {
  return basename(path).replace(/\.(safetensors|ckpt|pt|pth|bin)$/i, '')
}
