import { parseArgs } from 'node:util'
import { METHODS } from '../../engine/methods/registry'
import { methodInfo } from '../../engine/methods/types'
import { UsageError, type Command } from '../command'

export const methodsCommand: Command = {
  name: 'methods',
  summary: 'list merge methods with their inputs and parameters',
  usage: 'usage: amalgam methods [--json]\n\n  --json   print the method declarations as JSON (the same objects the app shows)',
  async run(argv, io) {
    const { values } = parse(argv)
    const infos = METHODS.map(methodInfo)
    if (values.json) {
      io.out(JSON.stringify(infos, null, 2))
      return 0
    }
    for (const m of infos) {
      const aliases = m.aliases.map((a) => a.name)
      const roles = [...m.inputs.roles.map((r, i) => `${String.fromCharCode(97 + i)}: ${r}`), ...(m.inputs.base !== 'none' ? [`base${m.inputs.base === 'optional' ? ' (optional)' : ''}: ${m.inputs.baseRole ?? 'common ancestor'}`] : [])]
      io.out(`${m.id}${aliases.length ? ` (aliases: ${aliases.join(', ')})` : ''} — ${m.label} [cost ${m.cost.join('')}, ${m.randomness}]`)
      io.out(`  ${m.description}`)
      io.out(`  inputs: ${m.inputs.max === null ? `${m.inputs.min} or more` : m.inputs.min === m.inputs.max ? m.inputs.min : `${m.inputs.min}-${m.inputs.max}`}; ${roles.join('; ')}`)
      for (const [name, p] of Object.entries(m.params)) {
        const detail =
          p.type === 'enum'
            ? `one of ${p.options.map((o) => o.value).join(' | ')}, default ${p.default}`
            : p.type === 'boolean'
              ? `true | false, default ${p.default}`
              : `${p.type}${p.min !== undefined || p.max !== undefined ? ` in [${p.min ?? '-inf'}, ${p.max ?? 'inf'}]` : ''}, default ${p.default ?? 'required'}${p.perBlock ? ', per block' : ''}${p.perModel ? ', one per input' : ''}`
        io.out(`  ${name}: ${detail} — ${p.description}`)
      }
      io.out('')
    }
    return 0
  },
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: { json: { type: 'boolean', default: false } }, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}
