import type { Command } from './command.js';
import type { CommandEntry } from './commands.js';

const PROGRAM_SUMMARY = 'tend: a GitOps reconciler for plain Linux hosts (systemd units over SSH, rollbacks as git reverts).';

/** `summary` is the command's line in `commands.ts`. */
export function commandHelp(command: Command, summary: string): string {
  const lines = [`Usage: ${command.usage}`, '', summary, ''];
  if (command.description !== '') lines.push(command.description, '');
  lines.push('Options:');
  const rows = Object.entries(command.options).map(([name, option]) => {
    const flag = option.short === undefined ? `    --${name}` : `-${option.short}, --${name}`;
    const value = option.type === 'string' ? ` ${option.valueName ?? 'VALUE'}` : '';
    return [`${flag}${value}`, option.description] as const;
  });
  rows.push(['-h, --help', 'Show this help.']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  for (const [flag, text] of rows) lines.push(`  ${flag.padEnd(width)}  ${text}`);
  lines.push('', 'Exit codes:');
  for (const [code, meaning] of command.exitCodes) lines.push(`  ${String(code).padEnd(3)} ${meaning}`);
  return `${lines.join('\n')}\n`;
}

export function programHelp(commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = [
    PROGRAM_SUMMARY,
    '',
    'Usage: tend COMMAND [OPTIONS]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     Show this help.',
    '  -V, --version  Print the version of tend.',
    '',
    'Run `tend COMMAND --help` for the options and exit codes of a command.',
  ];
  return `${lines.join('\n')}\n`;
}
