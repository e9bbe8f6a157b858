import type { Command } from './command.js';

/**
 * Every command, in the order `tend --help` lists them, each loaded only when it runs: `tend plan` then
 * never loads the daemon's git, HTTP and metrics stacks, which cost ~25 MB of its peak RSS (bench/scale.ts).
 */
export interface CommandEntry {
  readonly name: string;
  readonly load: () => Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  { name: 'validate', load: async () => (await import('./validate-command.js')).validateCommand },
  { name: 'render', load: async () => (await import('./render-command.js')).renderCommand },
  { name: 'plan', load: async () => (await import('./plan-command.js')).planCommand },
  { name: 'apply', load: async () => (await import('./apply-command.js')).applyCommand },
  { name: 'run', load: async () => (await import('./run-command.js')).runCommand },
  { name: 'status', load: async () => (await import('./status-command.js')).statusCommand },
  { name: 'revert', load: async () => (await import('./revert-command.js')).revertCommand },
  { name: 'retry', load: async () => (await import('./operator-commands.js')).retryCommand },
  { name: 'ack', load: async () => (await import('./operator-commands.js')).ackCommand },
  { name: 'pause', load: async () => (await import('./operator-commands.js')).pauseCommand },
  { name: 'resume', load: async () => (await import('./operator-commands.js')).resumeCommand },
];
