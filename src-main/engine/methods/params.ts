import { AmalgamError } from '../errors'
import type { ResolvedMethod } from './registry'
import type { ParamDecl, ResolvedParams } from './types'

export type ScalarParam = number | boolean | string | readonly number[]

/**
 * Completes and checks one key's parameter values: alias-fixed values, then the given ones, then
 * declared defaults. Every value is checked against its declaration (type, range, one value per
 * input for per-model parameters). `where` prefixes messages ("params.alpha").
 */
export function completeParams(
  resolved: ResolvedMethod,
  given: Readonly<Record<string, ScalarParam>>,
  inputCount: number,
  where = 'params',
): ResolvedParams {
  const { method, fixedParams } = resolved
  const out: Record<string, ScalarParam> = {}
  for (const name of Object.keys(given)) {
    if (!(name in method.params)) {
      const known = Object.keys(method.params)
      throw new AmalgamError(
        'BAD_RECIPE',
        `${where}.${name}: ${method.id} has no parameter "${name}"${known.length ? ` (it has ${known.join(', ')})` : ''}`,
      )
    }
  }
  for (const [name, decl] of Object.entries(method.params)) {
    const fixed = fixedParams[name]
    const value = given[name]
    if (fixed !== undefined && value !== undefined && value !== fixed) {
      throw new AmalgamError('BAD_RECIPE', `${where}.${name}: the alias used fixes ${name} = ${String(fixed)}, but ${String(value)} was given`)
    }
    out[name] = checkValue(decl, value ?? fixed ?? defaultOf(decl, inputCount, `${where}.${name}`), inputCount, `${where}.${name}`)
  }
  return out
}

function defaultOf(decl: ParamDecl, inputCount: number, where: string): ScalarParam {
  if (decl.type === 'boolean' || decl.type === 'enum') return decl.default
  const value = decl.default
  if (value === null) throw new AmalgamError('BAD_RECIPE', `${where}: required, no value given`)
  return decl.perModel ? Array.from({ length: inputCount }, () => value) : value
}

function checkValue(decl: ParamDecl, value: ScalarParam, inputCount: number, where: string): ScalarParam {
  switch (decl.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new AmalgamError('BAD_RECIPE', `${where}: expected true or false, got ${JSON.stringify(value)}`)
      return value
    case 'enum':
      if (typeof value !== 'string' || !decl.options.some((o) => o.value === value)) {
        throw new AmalgamError('BAD_RECIPE', `${where}: expected one of ${decl.options.map((o) => o.value).join(', ')}, got ${JSON.stringify(value)}`)
      }
      return value
    case 'number':
    case 'integer': {
      if (decl.perModel) {
        const values = typeof value === 'number' ? Array.from({ length: inputCount }, () => value) : value
        if (!Array.isArray(values) || values.length !== inputCount) {
          throw new AmalgamError('BAD_RECIPE', `${where}: expected one number per input (${inputCount}), got ${JSON.stringify(value)}`)
        }
        return values.map((v, i) => checkNumber(decl, v, `${where}[${i}]`))
      }
      return checkNumber(decl, value, where)
    }
  }
}

function checkNumber(decl: Extract<ParamDecl, { type: 'number' | 'integer' }>, value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new AmalgamError('BAD_RECIPE', `${where}: expected a finite number, got ${JSON.stringify(value)}`)
  if (decl.type === 'integer' && !Number.isInteger(value)) throw new AmalgamError('BAD_RECIPE', `${where}: expected an integer, got ${value}`)
  if (decl.min !== undefined && value < decl.min) throw new AmalgamError('BAD_RECIPE', `${where}: ${value} is below the minimum ${decl.min}`)
  if (decl.max !== undefined && value > decl.max) throw new AmalgamError('BAD_RECIPE', `${where}: ${value} is above the maximum ${decl.max}`)
  return value
}
