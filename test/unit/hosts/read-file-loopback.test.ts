import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHostFile, type SshHost } from '../../../src/hosts/index.js';
import type { SshPool } from '../../../src/hosts/ssh-pool.js';
import { useLoopbackHost } from './loopback-sshd.js';

/** `tend plan --diff` reads the host's copy of a file through the pool, against a real OpenSSH server. */
let host: SshHost;
let pool: SshPool;
let scratch: string;

const loopback = useLoopbackHost();

beforeAll(async () => {
  ({ host, pool } = loopback.current());
  scratch = await mkdtemp(join(tmpdir(), 'tend-read-file-'));
});

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe('readHostFile', { timeout: 60_000 }, () => {
  it('returns the bytes of a file, a path with spaces and quotes included', async () => {
    const path = join(scratch, "it's a file");
    await writeFile(path, 'API_PORT="8080"\nüñï\n');
    await expect(readHostFile(pool, host, path, 1024)).resolves.toEqual({ kind: 'text', text: 'API_PORT="8080"\nüñï\n' });
  });

  it('tells a missing file apart from an empty one', async () => {
    await expect(readHostFile(pool, host, join(scratch, 'nothing-here'), 1024)).resolves.toEqual({ kind: 'missing' });
    await writeFile(join(scratch, 'empty'), '');
    await expect(readHostFile(pool, host, join(scratch, 'empty'), 1024)).resolves.toEqual({ kind: 'text', text: '' });
  });

  it('reports a file over the bound as too large, having read no more than the bound and one byte', async () => {
    await writeFile(join(scratch, 'big'), 'x'.repeat(10_000));
    await expect(readHostFile(pool, host, join(scratch, 'big'), 100)).resolves.toEqual({ kind: 'too-large', maxBytes: 100 });
  });
});
