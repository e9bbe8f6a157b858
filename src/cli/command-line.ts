import { parseArgs } from 'node:util';
import { closestMatch } from '../spec/index.js';
import type { Command, CommandContext, OptionSpec } from './command.js';
import { UsageError } from './usage-error.js';

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'Show this help.' };

/**
 * Reads a command's arguments against its options. Node's parseArgs is run lenient and its tokens are
 * checked here, so every mistake is tend's own E_USAGE with a did-you-mean, never Node's wording (which
 * talks about `-- "--frobnicate"` to someone who mistyped `--json`).
 */
export function parseCommandLine(command: Command, args: readonly string[]): Pick<CommandContext, 'values' | 'positionals'> {
  const options: Record<string, OptionSpec> = { ...command.options, help: HELP_OPTION };
  const { values, positionals, tokens } = parseArgs({ args: [...args], options, allowPositionals: true, strict: false, tokens: true });
  const helpHint = `Run \`tend ${command.name} --help\` for its options.`;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (option === undefined) {
      const meant = closestMatch(token.name, Object.keys(options));
      throw new UsageError(`unknown option ${token.rawName}`, meant === undefined ? helpHint : `Did you mean --${meant}? ${helpHint}`);
    }
    if (option.type === 'string' && token.value === undefined) {
      throw new UsageError(`${token.rawName} needs a value: ${token.rawName} ${option.valueName ?? 'VALUE'}`, helpHint);
    }
    if (option.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`${token.rawName} takes no value (given "${token.value}")`, helpHint);
    }
  }
  if (values['help'] !== true && positionals.length > command.maxPositionals) {
    throw new UsageError(`too many arguments: ${positionals.slice(command.maxPositionals).join(' ')}`, helpHint);
  }
  return { values, positionals };
}
