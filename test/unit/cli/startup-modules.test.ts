import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTend, runTend } from '../../support/tend-cli.js';

/**
 * What `tend` loads before it answers, recorded by a module-resolve hook in the real binary (no timing):
 * help and usage errors must not pay for the daemon's SSH and git stacks, nor for commands not named.
 */

let dir = '';

beforeAll(async () => {
  await buildTend();
  dir = await mkdtemp(join(tmpdir(), 'tend-startup-modules-'));
  // The hook runs on Node's loader thread; it appends every resolved module URL to the file named in the env.
  await writeFile(join(dir, 'record.mjs'), [
    "import { appendFileSync } from 'node:fs';",
    'export async function resolve(specifier, context, nextResolve) {',
    '  const result = await nextResolve(specifier, context);',
    "  appendFileSync(process.env.TEND_TEST_MODULE_LOG, `${result.url}\\n`);",
    '  return result;',
    '}',
  ].join('\n'));
  await writeFile(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./record.mjs', import.meta.url);\n");
}, 300_000);

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function modulesLoadedBy(args: readonly string[]): Promise<{ code: number; modules: string[] }> {
  const log = join(dir, `modules-${args.join('_').replace(/[^a-z0-9_-]/gi, '')}.log`);
  await writeFile(log, '');
  const run = await runTend(args, { TEND_TEST_MODULE_LOG: log, NODE_OPTIONS: `--import ${join(dir, 'register.mjs')}` });
  return { code: run.code, modules: (await readFile(log, 'utf8')).split('\n').filter((line) => line !== '') };
}

const heavy = (modules: readonly string[]) => modules.filter((url) => /\/node_modules\/(ssh2|node-ssh|isomorphic-git)\//.test(url));
const commandModules = (modules: readonly string[]) =>
  [...new Set(modules.map((url) => /\/dist\/cli\/([a-z-]+-commands?)\.js$/.exec(url)?.[1]).filter((name) => name !== undefined))].sort();

describe('start-up loads only what the command line names', () => {
  it('tend --help loads no command module, and neither ssh2 nor isomorphic-git', async () => {
    const { code, modules } = await modulesLoadedBy(['--help']);
    expect(code).toBe(0);
    // The hook saw the binary's own modules, so an empty answer below is not a hook that recorded nothing.
    expect(modules.some((url) => url.endsWith('/dist/cli/main.js'))).toBe(true);
    expect(commandModules(modules)).toEqual([]);
    expect(heavy(modules)).toEqual([]);
  });

  it('tend validate loads the validate command alone, without ssh2 or isomorphic-git', async () => {
    const { code, modules } = await modulesLoadedBy(['validate', 'deploy-repo-example']);
    expect(code).toBe(0);
    expect(commandModules(modules)).toEqual(['validate-command']);
    expect(heavy(modules)).toEqual([]);
  });

  it.each([
    ['an unknown command', ['frobnicate'], []],
    ['an unknown option', ['validate', '--frobnicate'], ['validate-command']],
    ['help on one command', ['help', 'render'], ['render-command']],
  ])('%s loads no command module beyond the one named', async (_, args, expected) => {
    const { code, modules } = await modulesLoadedBy(args);
    expect(code).toBe(args[0] === 'help' ? 0 : 2);
    expect(commandModules(modules)).toEqual(expected);
    expect(heavy(modules)).toEqual([]);
  });
});

describe('etcd is loaded only with ha', () => {
  const grpc = (modules: readonly string[]) => modules.filter((url) => /\/node_modules\/(etcd3|@grpc)\//.test(url));

  it('tend run without ha loads neither etcd3 nor gRPC (most of a second to import)', async () => {
    const { code, modules } = await modulesLoadedBy(['run', '--repo-path', '/srv/deploy', '--check-config']);
    expect(code).toBe(0);
    expect(modules.some((url) => url.endsWith('/dist/daemon/run-daemon.js'))).toBe(true);
    expect(grpc(modules)).toEqual([]);
  });
});
