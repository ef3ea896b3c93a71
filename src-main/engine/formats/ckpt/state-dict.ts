import { fileError } from '../../errors'
import { PyDict, PyList, PyObject, PySet, PyTuple, TorchTensor, type PyValue } from './pickle-values'
import { describe } from './unpickler'

/*
 * Which tensors of an unpickled checkpoint are "the model", and under which names.
 *
 * Discovery: if the top-level dict has one of STATE_DICT_ENTRIES holding at least one tensor, the
 * first such entry is the state dict (Lightning/LDM "state_dict"; BasicSR "params_ema" before its
 * raw "params", as Real-ESRGAN inference prefers; "model_state_dict" of the PyTorch tutorials;
 * "model" of fairseq, DeiT, YOLO; "module" of DeepSpeed), and the same rule is applied inside it
 * a few times ({"model": {"state_dict": …}}). Otherwise the top-level object itself is the state
 * dict (Hugging Face pytorch_model.bin, pruned SD files, LoRA .pt files).
 *
 * Naming: a dict's keys are the names. Tensors inside nested dicts or lists get the path joined
 * with '.', as nn.Module.state_dict() names submodules (and ModuleList items), so
 * {"unet": {"conv.weight": t}} gives "unet.conv.weight". A pickled nn.Module (torch.save(model))
 * yields exactly the keys of model.state_dict(): parameters, persistent buffers, then submodules.
 * Anything that is not a tensor is skipped and counted in the notes.
 */

const STATE_DICT_ENTRIES = ['state_dict', 'params_ema', 'params', 'model_state_dict', 'model', 'module']
/** how many entries deep discovery looks ({"model": {"state_dict": …}} is two) */
const MAX_DESCENT = 3

/** Deeper nesting than this is not a state dict; it is skipped like any other non-tensor value. */
const MAX_DEPTH = 64
/** Containers may share children, so a walk can revisit them; this bounds the work a crafted pickle causes. */
const MAX_VISITS = 1_000_000
/** How many names a note lists before "…" */
const NOTE_NAMES = 5

export interface StateDict {
  readonly tensors: readonly (readonly [string, TorchTensor])[]
  /** pickled nn.Modules whose parameters and buffers were read: used, not ignored */
  readonly modules: ReadonlySet<PyObject>
  readonly notes: readonly string[]
}

export function findStateDict(path: string, root: PyValue): StateDict {
  const walker = new Walker(path)
  // descend through known entries, remembering the entries passed by (their tensors are not used)
  let chosen = root
  const entryPath: string[] = []
  const passedBy: (readonly [string, PyValue])[] = []
  for (let level = 0; level < MAX_DESCENT; level++) {
    const mapping = asMapping(chosen)
    const entry = mapping === null ? undefined : STATE_DICT_ENTRIES.find((name) => {
      const value = mapping.get(name)
      return value !== undefined && walker.collect(value).tensors.length > 0
    })
    if (mapping === null || entry === undefined) break
    for (const [key, value] of mapping.entries()) if (key !== entry) passedBy.push([[...entryPath, keyName(key)].join('.'), value])
    entryPath.push(entry)
    chosen = mapping.get(entry)!
  }
  const { tensors, ignored, modules } = walker.collect(chosen)
  if (tensors.length === 0) {
    throw fileError('UNSUPPORTED_FORMAT', path, `holds no torch tensors (its pickle is ${describeTop(root)})`)
  }
  checkUniqueNames(path, tensors)

  const notes: string[] = []
  const model = [...modules][0]
  if (model !== undefined) notes.push(`read the parameters and buffers of a pickled model (${model.type.qualifiedName})`)
  if (entryPath.length > 0) {
    const entry = entryPath.join('.')
    const used = new Set(tensors.map(([, tensor]) => tensor))
    const elsewhere = new Set<TorchTensor>()
    const holders: string[] = []
    for (const [name, value] of passedBy) {
      const outside = walker.collect(value).tensors.filter(([, tensor]) => !used.has(tensor))
      if (outside.length === 0) continue
      holders.push(name)
      for (const [, tensor] of outside) elsewhere.add(tensor)
    }
    const from = entry === 'state_dict' ? '' : `read the tensors under '${entry}'`
    const skipped = elsewhere.size > 0 ? `ignored ${elsewhere.size} tensors outside '${entry}' (${listNames(holders)})` : ''
    const note = [from, skipped].filter((part) => part !== '').join('; ')
    if (note !== '') notes.push(note)
  }
  if (ignored.length > 0) notes.push(`ignored ${ignored.length} non-tensor entries of the state dict: ${listNames(ignored)}`)
  return { tensors, modules, notes }
}

interface Found {
  readonly tensors: (readonly [string, TorchTensor])[]
  /** names of the non-tensor values skipped */
  readonly ignored: string[]
  /** nn.Modules walked, outermost first */
  readonly modules: Set<PyObject>
}

class Walker {
  private visits = 0
  private readonly onPath = new Set<object>()

  constructor(private readonly path: string) {}

  collect(value: PyValue): Found {
    const found: Found = { tensors: [], ignored: [], modules: new Set() }
    this.walk(value, '', 0, found)
    return found
  }

  private walk(value: PyValue, name: string, depth: number, found: Found): void {
    if (++this.visits > MAX_VISITS) {
      throw fileError('BAD_PICKLE', this.path, `the pickle's containers refer to each other too often to walk (more than ${MAX_VISITS} visits)`)
    }
    if (value instanceof TorchTensor) {
      found.tensors.push([name, value])
      return
    }
    const walkable = depth < MAX_DEPTH && typeof value === 'object' && value !== null && !this.onPath.has(value)
    const module = walkable && value instanceof PyObject ? moduleChildren(value) : null
    const children = module ?? (walkable ? childrenOf(value) : null)
    if (module !== null) found.modules.add(value as PyObject)
    if (children === null) {
      if (name !== '') found.ignored.push(name)
      return
    }
    this.onPath.add(value as object)
    for (const [childName, child] of children) this.walk(child, name === '' ? childName : `${name}.${childName}`, depth + 1, found)
    this.onPath.delete(value as object)
  }
}

/** The named children of a container, or null for a leaf. */
function childrenOf(value: PyValue): (readonly [string, PyValue])[] | null {
  if (value instanceof PyDict) return [...value.entries()].map(([key, child]) => [keyName(key), child] as const)
  if (value instanceof PyList || value instanceof PyTuple) return value.items.map((child, i) => [String(i), child] as const)
  if (value instanceof PyObject) return value.dictItems.size > 0 ? childrenOf(value.dictItems) : null
  return null
}

function keyName(key: PyValue): string {
  if (typeof key === 'string') return key
  if (typeof key === 'number' || typeof key === 'bigint') return String(key)
  if (typeof key === 'boolean') return key ? 'True' : 'False'
  return `<${describe(key)}>`
}

/** A pickled nn.Module: what its state_dict() would hold, in the same order; null if `value` is not one. */
function moduleChildren(value: PyObject): (readonly [string, PyValue])[] | null {
  const state = value.state instanceof PyTuple ? value.state.items[0] : value.state
  if (!(state instanceof PyDict)) return null
  const parameters = state.get('_parameters')
  const modules = state.get('_modules')
  if (!(parameters instanceof PyDict) || !(modules instanceof PyDict)) return null
  const buffers = state.get('_buffers')
  const transient = state.get('_non_persistent_buffers_set')
  const skip = new Set(transient instanceof PySet ? transient.items.filter((item) => typeof item === 'string') : [])
  const children: (readonly [string, PyValue])[] = []
  const add = (dict: PyValue | undefined, keep: (name: string) => boolean): void => {
    if (!(dict instanceof PyDict)) return
    for (const [key, child] of dict.entries()) {
      // torch leaves out unset parameters (bias=False) and non-persistent buffers
      if (child !== null && typeof key === 'string' && keep(key)) children.push([key, child])
    }
  }
  add(parameters, () => true)
  add(buffers, (name) => !skip.has(name))
  add(modules, () => true)
  return children
}

/** The top level as a mapping of named entries, when it is one. */
function asMapping(root: PyValue): PyDict | null {
  if (root instanceof PyDict) return root
  if (root instanceof PyObject && root.dictItems.size > 0) return root.dictItems
  return null
}

function checkUniqueNames(path: string, tensors: readonly (readonly [string, TorchTensor])[]): void {
  const seen = new Set<string>()
  for (const [name] of tensors) {
    if (seen.has(name)) throw fileError('BAD_TENSOR', path, `two tensors are named ${JSON.stringify(name)} once nested names are joined with '.'`)
    seen.add(name)
  }
  if (seen.has('')) throw fileError('UNSUPPORTED_FORMAT', path, 'holds a single tensor, not a dict of named tensors')
}

function describeTop(root: PyValue): string {
  const top = asMapping(root)
  if (top === null) return describe(root)
  const keys = [...top.entries()].map(([key]) => keyName(key))
  return `a dict with ${keys.length === 0 ? 'no entries' : `entries ${listNames(keys)}`}`
}

/** "a, b, c, d, e, …" */
export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, NOTE_NAMES).join(', ')
  return names.length > NOTE_NAMES ? `${shown}, …` : shown
}
