import type { DType } from '../dtype'

/** A torch element type as a checkpoint names it. */
export interface TorchDType {
  /** torch's canonical name ("float16"), for messages */
  readonly torchName: string
  readonly size: number
  /** ours, or null when we cannot compute on it */
  readonly dtype: DType | null
  /** the name a Checkpoint's `unsupported` uses ("C64"); equals `dtype` when supported */
  readonly label: string
}

function t(torchName: string, size: number, dtype: DType | null, label: string = dtype ?? torchName.toUpperCase()): TorchDType {
  return { torchName, size, dtype, label }
}

const F64 = t('float64', 8, 'F64')
const F32 = t('float32', 4, 'F32')
const F16 = t('float16', 2, 'F16')
const BF16 = t('bfloat16', 2, 'BF16')
const I64 = t('int64', 8, 'I64')
const I32 = t('int32', 4, 'I32')
const I16 = t('int16', 2, 'I16')
const I8 = t('int8', 1, 'I8')
const U8 = t('uint8', 1, 'U8')
const BOOL = t('bool', 1, 'BOOL')
const C64 = t('complex64', 8, null, 'C64')
const C128 = t('complex128', 16, null, 'C128')
const QINT8 = t('qint8', 1, null)
const QUINT8 = t('quint8', 1, null)
const QINT32 = t('qint32', 4, null)
const QUINT4X2 = t('quint4x2', 1, null)
const QUINT2X4 = t('quint2x4', 1, null)

/** torch.<name> dtype globals (with their aliases), as _rebuild_tensor_v3 receives them. */
export const TORCH_DTYPES: ReadonlyMap<string, TorchDType> = new Map([
  ['float64', F64],
  ['double', F64],
  ['float32', F32],
  ['float', F32],
  ['float16', F16],
  ['half', F16],
  ['bfloat16', BF16],
  ['int64', I64],
  ['long', I64],
  ['int32', I32],
  ['int', I32],
  ['int16', I16],
  ['short', I16],
  ['int8', I8],
  ['uint8', U8],
  ['bool', BOOL],
  ['uint16', t('uint16', 2, 'U16')],
  ['uint32', t('uint32', 4, 'U32')],
  ['uint64', t('uint64', 8, 'U64')],
  ['float8_e4m3fn', t('float8_e4m3fn', 1, 'F8_E4M3')],
  ['float8_e5m2', t('float8_e5m2', 1, 'F8_E5M2')],
  ['float8_e4m3fnuz', t('float8_e4m3fnuz', 1, null, 'F8_E4M3FNUZ')],
  ['float8_e5m2fnuz', t('float8_e5m2fnuz', 1, null, 'F8_E5M2FNUZ')],
  ['float8_e8m0fnu', t('float8_e8m0fnu', 1, null, 'F8_E8M0')],
  ['complex32', t('complex32', 4, null, 'C32')],
  ['chalf', t('complex32', 4, null, 'C32')],
  ['complex64', C64],
  ['cfloat', C64],
  ['complex128', C128],
  ['cdouble', C128],
  ['qint8', QINT8],
  ['quint8', QUINT8],
  ['qint32', QINT32],
  ['quint4x2', QUINT4X2],
  ['quint2x4', QUINT2X4],
])

/**
 * The legacy typed-storage classes torch still names in persistent ids (torch.FloatStorage), and
 * UntypedStorage, which holds bytes (torch ≥ 2.1 uses it, with a dtype in _rebuild_tensor_v3, for
 * dtypes that never had a storage class, e.g. float8).
 */
export const TORCH_STORAGE_TYPES: ReadonlyMap<string, TorchDType> = new Map([
  ['DoubleStorage', F64],
  ['FloatStorage', F32],
  ['HalfStorage', F16],
  ['BFloat16Storage', BF16],
  ['LongStorage', I64],
  ['IntStorage', I32],
  ['ShortStorage', I16],
  ['CharStorage', I8],
  ['ByteStorage', U8],
  ['BoolStorage', BOOL],
  ['ComplexFloatStorage', C64],
  ['ComplexDoubleStorage', C128],
  ['QInt8Storage', QINT8],
  ['QUInt8Storage', QUINT8],
  ['QInt32Storage', QINT32],
  ['QUInt4x2Storage', QUINT4X2],
  ['QUInt2x4Storage', QUINT2X4],
  ['UntypedStorage', U8],
])
