import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { once } from 'node:events';

import { NATIVE_GIT_ENV } from './git-native.js';

/**
 * A deploy repo that commits its releases into git, the way issue 13 describes it: a binary of
 * `binaryBytes` (incompressible, so no delta saves a byte) gets a new version every `releaseEvery` commits,
 * and every commit in between edits a small spec. `releases` versions of the binary: the history is about
 * `releases × binaryBytes` (50 × 20 MB = 1 GB in the case).
 */
export interface LargeHistoryOptions {
  readonly releases: number;
  readonly releaseEvery: number;
  readonly binaryBytes: number;
  readonly seed: number;
}

const FIRST_COMMIT_TIME = 1_700_000_000;
const SIGNATURE = 'Rel Ease <release@tend.invalid>';

/**
 * Writes the history into the existing bare repository `gitDir` with `git fast-import`, streamed: the
 * binaries are made on the fly (AES-CTR of zeros under a key from the seed: fast, deterministic, random to
 * zlib) and written with back-pressure, so the generator never holds more than one binary.
 */
export async function importLargeHistory(gitDir: string, options: LargeHistoryOptions, branch = 'main'): Promise<{ commits: number }> {
  const child = spawn('git', ['--git-dir', gitDir, 'fast-import', '--quiet', '--done'], { env: NATIVE_GIT_ENV, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, 'close') as Promise<[number | null]>;
  const write = async (chunk: string | Buffer): Promise<void> => {
    if (!child.stdin.write(chunk)) await once(child.stdin, 'drain');
  };
  const commits = options.releases * options.releaseEvery;
  for (let n = 0; n < commits; n += 1) {
    const when = `${SIGNATURE} ${FIRST_COMMIT_TIME + n * 3600} +0000`;
    const release = Math.floor(n / options.releaseEvery) + 1;
    const spec = `service:\n  name: app\nrun:\n  artifact: app.bin\n  command: ./app.bin --release ${release}\nenvironments: |\n  BUILD=${n}\n`;
    const message = n % options.releaseEvery === 0 ? `Release ${release}\n` : `Tune app (${n})\n`;
    await write(`commit refs/heads/${branch}\ncommitter ${when}\ndata ${Buffer.byteLength(message)}\n${message}`);
    await write(`M 100644 inline services/app/spec.yml\ndata ${Buffer.byteLength(spec)}\n${spec}\n`);
    if (n % options.releaseEvery === 0) {
      await write(`M 100755 inline services/app/app.bin\ndata ${options.binaryBytes}\n`);
      await writeBinary(write, options.seed, release, options.binaryBytes);
      await write('\n');
    }
    await write('\n');
  }
  await write('done\n');
  child.stdin.end();
  const [code] = await exited;
  if (code !== 0) throw new Error(`git fast-import exited ${code}: ${stderr.slice(-2000)}`);
  return { commits };
}

const CHUNK = 1024 * 1024;

async function writeBinary(write: (chunk: Buffer) => Promise<void>, seed: number, release: number, bytes: number): Promise<void> {
  const key = createHash('sha256').update(`large-history ${seed} ${release}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  for (let left = bytes; left > 0; left -= CHUNK) {
    await write(cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left)));
  }
}
