import type { RemoteRunner, RunTarget } from './remote-command.js';

/** What a host has at a path, as far as showing it goes. */
export type HostFile =
  | { readonly kind: 'missing' }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'too-large'; readonly maxBytes: number };

const EXIT_MISSING = 66;

/**
 * $1 path, $2 bytes to read at most. A constant script with the path as a parameter, like every remote
 * command of tend's; `head -c` bounds the read on the host, so a huge file is never sent whole.
 */
const READ_SCRIPT = `[ -e "$1" ] || exit ${EXIT_MISSING}; exec head -c "$2" -- "$1"`;

/**
 * Reads one file as root (through `sudo -n` for a non-root user), for showing it: one remote command on the
 * pool's exec path. More than `maxBytes` is reported as too large rather than shown cut.
 */
export async function readHostFile(runner: RemoteRunner, host: RunTarget, path: string, maxBytes: number): Promise<HostFile> {
  const result = await runner.run(host, ['sh', '-c', READ_SCRIPT, 'tend-read', path, String(maxBytes + 1)], {
    sudo: true,
    okExitCodes: [EXIT_MISSING],
    maxOutputBytes: maxBytes + 64 * 1024,
  });
  if (result.code === EXIT_MISSING) return { kind: 'missing' };
  if (Buffer.byteLength(result.stdout, 'utf8') > maxBytes) return { kind: 'too-large', maxBytes };
  return { kind: 'text', text: result.stdout };
}
