import { PyGlobal, type BuilderName } from './pickle-values'
import { TORCH_DTYPES, TORCH_STORAGE_TYPES } from './torch-dtypes'

/*
 * What a class or function named by a pickle (GLOBAL, STACK_GLOBAL, INST) is to us. We never import
 * or call anything, so no name can run code here; the verdicts say what loading the file with
 * Python's pickle would have done:
 *   - a data builder (tensor rebuild functions, containers): reproduced as data;
 *   - hostile (it executes code, touches files, processes or the network, or reaches other objects
 *     by name): the whole file is refused, because no honest checkpoint names it;
 *   - anything else (training-library classes, numpy scalars…): an inert placeholder.
 */

export type GlobalVerdict =
  | { readonly kind: 'hostile'; readonly name: string }
  /** not a name Python could import ("", "a..b", "os system"): the pickle is broken */
  | { readonly kind: 'invalid' }
  | { readonly kind: 'value'; readonly value: PyGlobal }

const BUILDERS: ReadonlyMap<string, BuilderName> = new Map([
  ['torch._utils._rebuild_tensor', 'rebuild_tensor'],
  ['torch._utils._rebuild_tensor_v2', 'rebuild_tensor_v2'],
  ['torch._utils._rebuild_tensor_v3', 'rebuild_tensor_v3'],
  ['torch._utils._rebuild_parameter', 'rebuild_parameter'],
  ['torch._utils._rebuild_parameter_with_state', 'rebuild_parameter'],
  ['torch._tensor._rebuild_from_type', 'rebuild_from_type'],
  ['torch._tensor._rebuild_from_type_v2', 'rebuild_from_type'],
  ['collections.OrderedDict', 'dict'],
  ['collections.defaultdict', 'dict'],
  ['builtins.dict', 'dict'],
  ['builtins.list', 'list'],
  ['builtins.tuple', 'tuple'],
  ['torch.Size', 'tuple'],
  ['builtins.set', 'set'],
  ['builtins.frozenset', 'set'],
  ['builtins.bytearray', 'bytearray'],
  ['builtins.bytes', 'bytearray'],
  ['builtins.complex', 'complex'],
  ['_codecs.encode', 'codecs_encode'],
  ['copyreg._reconstructor', 'reconstructor'],
  ['copyreg.__newobj__', 'newobj'],
  ['copyreg.__newobj_ex__', 'newobj'],
])

/** Builtins that are plain data types (as placeholders); every other builtin is refused. */
const INERT_BUILTINS = new Set(['object', 'int', 'float', 'str', 'bool', 'slice', 'range'])

/**
 * Modules (whole trees) and functions no checkpoint has a reason to name. A name is refused when it,
 * or a dotted tail of two or more parts of its attribute path (protocol 4 resolves "a.b.c"
 * attribute by attribute, so torch.serialization.os.system reaches os.system), starts with one of
 * these at a dot boundary.
 */
const HOSTILE_PREFIXES = new Set([
  // processes, code execution and imports
  'os', 'posix', 'nt', 'subprocess', '_posixsubprocess', '_winapi', 'sys', 'importlib', 'imp', 'pkgutil', 'zipimport', 'runpy',
  'code', 'codeop', 'compileall', 'py_compile', 'types', 'inspect', 'ast', 'ctypes', '_ctypes', 'cffi', 'multiprocessing',
  '_multiprocessing', 'threading', '_thread', 'concurrent', 'asyncio', 'signal', '_signal', 'pty', 'tty', 'termios', 'fcntl',
  'resource', 'mmap', 'gc', 'atexit', 'site', 'platform', 'pdb', 'bdb', 'trace', 'timeit', 'doctest', 'cProfile', 'profile', 'pydoc',
  'distutils', 'setuptools', 'pip', 'venv', 'ensurepip', 'logging.config',
  // nested deserialisers
  'pickle', '_pickle', 'dill', 'cloudpickle', 'joblib', 'shelve', 'dbm', 'marshal',
  // files and the network
  'io', '_io', 'pathlib', 'tempfile', 'shutil', 'fileinput', 'glob', 'tarfile', 'zipfile', 'gzip', 'bz2', 'lzma', 'sqlite3',
  'socket', '_socket', 'ssl', 'select', 'selectors', 'socketserver', 'http', 'urllib', 'urllib3', 'requests', 'ftplib', 'smtplib',
  'telnetlib', 'xmlrpc', 'webbrowser',
  // reaching attributes or methods by name
  'operator.attrgetter', 'operator.methodcaller', 'operator.call', '_operator.attrgetter', '_operator.methodcaller', '_operator.call',
  // library functions that load, compile or run things
  'torch.load', 'torch.save', 'torch.from_file', 'torch.hub', 'torch.serialization', 'torch.jit', 'torch.package', 'torch.utils.cpp_extension',
  'torch.multiprocessing', 'torch.distributed', 'torch._dynamo', 'torch._inductor', 'torch.compiler', 'torch.ops', 'torch._ops', 'torch.classes',
  'torch._utils', 'copyreg', 'torch.storage._load_from_bytes', 'torch.fx', 'torch._C.import_ir_module', 'torch._C.import_ir_module_from_buffer',
  'torch._C._load_for_lite_interpreter', 'torch._C._load_for_lite_interpreter_from_buffer', 'torch._C.CompilationUnit',
  'numpy.load', 'numpy.save', 'numpy.savez', 'numpy.savez_compressed', 'numpy.fromfile', 'numpy.memmap', 'numpy.loadtxt', 'numpy.genfromtxt',
  'numpy.fromregex', 'numpy.testing', 'numpy.f2py', 'numpy.distutils', 'numpy.ctypeslib', 'numpy.lib.npyio', 'numpy.lib.format',
  'pandas.read_pickle', 'pandas.io', 'yaml.load', 'yaml.load_all', 'yaml.unsafe_load', 'yaml.unsafe_load_all', 'yaml.full_load', 'yaml.full_load_all',
])

/** Exceptions inside refused trees: the rebuild functions torch.save writes and copyreg's object makers. */
function isKnownInert(qualified: string): boolean {
  return qualified.startsWith('torch._utils._rebuild_') || BUILDERS.has(qualified) || qualified === 'torch.serialization._get_layout'
}

/** Python 2 names a protocol 0–2 pickle may use, as Python 3 resolves them (_compat_pickle). */
const PY2_MODULES: ReadonlyMap<string, string> = new Map([
  ['__builtin__', 'builtins'],
  ['exceptions', 'builtins'],
  ['copy_reg', 'copyreg'],
  ['cPickle', 'pickle'],
  ['commands', 'subprocess'],
  ['thread', '_thread'],
  ['dummy_thread', '_dummy_thread'],
  ['urllib2', 'urllib.request'],
  ['urlparse', 'urllib.parse'],
  ['httplib', 'http.client'],
  ['BaseHTTPServer', 'http.server'],
  ['SimpleHTTPServer', 'http.server'],
  ['CGIHTTPServer', 'http.server'],
  ['SocketServer', 'socketserver'],
  ['xmlrpclib', 'xmlrpc.client'],
  ['StringIO', 'io'],
  ['cStringIO', 'io'],
  ['UserDict', 'collections'],
  ['UserList', 'collections'],
  ['UserString', 'collections'],
  ['Queue', 'queue'],
  ['anydbm', 'dbm'],
  ['whichdb', 'dbm'],
])

const PY2_NAMES: ReadonlyMap<string, readonly [string, string]> = new Map([
  ['__builtin__.reduce', ['functools', 'reduce']],
  ['__builtin__.intern', ['sys', 'intern']],
  ['__builtin__.xrange', ['builtins', 'range']],
  ['__builtin__.unicode', ['builtins', 'str']],
  ['__builtin__.basestring', ['builtins', 'str']],
  ['__builtin__.long', ['builtins', 'int']],
  ['__builtin__.unichr', ['builtins', 'chr']],
  ['itertools.izip', ['builtins', 'zip']],
  ['itertools.imap', ['builtins', 'map']],
  ['itertools.ifilter', ['builtins', 'filter']],
])

/** torch renamed torch.tensor to torch._tensor (pytorch#51633) and maps the old name on load. */
const TORCH_MODULE_RENAMES: ReadonlyMap<string, string> = new Map([['torch.tensor', 'torch._tensor']])

const STORAGE_MODULES = new Set(['torch', 'torch.cuda', 'torch.storage'])

/** A dotted name of non-empty parts without spaces or control characters. */
const DOTTED_NAME = /^[^\s.\p{Cc}]+(\.[^\s.\p{Cc}]+)*$/u

export function classifyGlobal(pickledModule: string, pickledName: string): GlobalVerdict {
  if (!DOTTED_NAME.test(pickledModule) || !DOTTED_NAME.test(pickledName)) return { kind: 'invalid' }
  const [module, name] = normalise(pickledModule, pickledName)
  const qualified = `${module}.${name}`
  if (isHostile(module, name)) return { kind: 'hostile', name: qualified }
  const builder = BUILDERS.get(qualified)
  if (builder !== undefined) return value(module, name, { kind: 'builder', builder })
  const storage = STORAGE_MODULES.has(module) ? TORCH_STORAGE_TYPES.get(name) : undefined
  if (storage !== undefined) return value(module, name, { kind: 'storage-type', dtype: storage })
  const dtype = module === 'torch' ? TORCH_DTYPES.get(name) : undefined
  if (dtype !== undefined) return value(module, name, { kind: 'dtype', dtype })
  return value(module, name, { kind: 'opaque' })
}

function value(module: string, name: string, role: PyGlobal['role']): GlobalVerdict {
  return { kind: 'value', value: new PyGlobal(module, name, role) }
}

function normalise(module: string, name: string): readonly [string, string] {
  const renamed = PY2_NAMES.get(`${module}.${name}`)
  if (renamed !== undefined) return renamed
  return [PY2_MODULES.get(module) ?? TORCH_MODULE_RENAMES.get(module) ?? module, name]
}

function isHostile(module: string, name: string): boolean {
  const moduleParts = module.split('.')
  const nameParts = name.split('.')
  // dunder attributes (__builtins__, __globals__, __subclasses__…) are how sandboxes are escaped
  const dunder = (part: string): boolean => part.length > 4 && part.startsWith('__') && part.endsWith('__')
  if (!isKnownInert(`${module}.${name}`) && [...moduleParts.slice(1), ...nameParts].some(dunder)) return true
  if (isHostileQualified([...moduleParts, ...nameParts])) return true
  // a single-part tail only fetches a module or function object; calling it needs the two-part tail
  for (let i = 0; i < nameParts.length - 1; i++) {
    if (isHostileQualified(nameParts.slice(i))) return true
  }
  return false
}

function isHostileQualified(parts: readonly string[]): boolean {
  const qualified = parts.join('.')
  if (isKnownInert(qualified)) return false
  if (parts[0] === 'builtins') return !(parts.length === 2 && INERT_BUILTINS.has(parts[1]!))
  for (let end = 1; end <= parts.length; end++) {
    if (HOSTILE_PREFIXES.has(parts.slice(0, end).join('.'))) return true
  }
  return false
}
