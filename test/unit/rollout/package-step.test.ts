import { describe, expect, it } from 'vitest';
import type { RemoteFiles, RunOptions, RunResult, RunTarget } from '../../../src/hosts/index.js';
import { installPackageStep, startAptSession } from '../../../src/rollout/package-step.js';
import type { AptRepository } from '../../../src/spec/model.js';

/**
 * The package part of a host step against a fake host that answers each of tend's scripts as a Debian
 * host would: which commands run, in which order, and how often. The scripts themselves run against
 * real apt on the e2e hosts (test/e2e/packages.test.ts).
 */

type Call = 'write' | 'update' | 'install-kept' | 'install-repository';

interface FakeHost {
  readonly pool: RemoteFiles;
  readonly calls: Call[];
}

function fakeHost(answers: { kept?: 'installed' | 'none'; update?: RunResult[] } = {}): FakeHost {
  const calls: Call[] = [];
  const updates = [...(answers.update ?? [])];
  const run = async (_host: RunTarget, argv: readonly string[], _options?: RunOptions): Promise<RunResult> => {
    const script = argv[2] ?? '';
    if (script.includes('tend-write ok')) {
      calls.push('write');
      return { code: 0, stdout: 'tend-write ok\n', stderr: '' };
    }
    if (script.includes('apt-get update')) {
      calls.push('update');
      return updates.shift() ?? { code: 0, stdout: 'Reading package lists...\n', stderr: '' };
    }
    if (script.includes('tend-apt needs-repository')) {
      const mode = argv[6];
      if (mode === 'kept') {
        calls.push('install-kept');
        return answers.kept === 'installed'
          ? { code: 0, stdout: `tend-apt installed version=${argv[5]} from=kept\n`, stderr: '' }
          : { code: 67, stdout: 'tend-apt needs-repository\n', stderr: '' };
      }
      calls.push('install-repository');
      return { code: 0, stdout: `tend-apt installed version=${argv[5] === '' ? '9.9' : argv[5]} from=repository\n`, stderr: '' };
    }
    throw new Error(`unexpected command ${argv.join(' ').slice(0, 80)}`);
  };
  return { pool: { run, withSftp: () => Promise.reject(new Error('no sftp in this fake')) }, calls };
}

const repository: AptRepository = {
  name: 'internal',
  uri: 'http://10.78.0.1:8999',
  suite: 'stable',
  components: ['main'],
  keyring: new Uint8Array([0x99, 0x01, 0x0d]),
  keyPath: 'apt/internal.gpg',
  trusted: false,
  source: { file: 'tend.yml', line: 1, col: 1 },
};
const host = { name: 'host-1', user: 'root' };

describe('installPackageStep', () => {
  it('reinstalls a pinned version from the .deb kept on the host, without touching the repository', async () => {
    const fake = fakeHost({ kept: 'installed' });
    const installed = await installPackageStep(fake.pool, host, { name: 'hello', from: '1.1', to: '1.0' }, startAptSession([repository]));
    expect(installed).toEqual({ version: '1.0', from: 'kept' });
    expect(fake.calls).toEqual(['install-kept']);
  });

  it('without a kept .deb, writes the keyring and the source, updates, then installs from the repository', async () => {
    const fake = fakeHost({ kept: 'none' });
    const installed = await installPackageStep(fake.pool, host, { name: 'hello', from: '1.0', to: '1.1' }, startAptSession([repository]));
    expect(installed).toEqual({ version: '1.1', from: 'repository' });
    expect(fake.calls).toEqual(['install-kept', 'write', 'write', 'update', 'install-repository']);
  });

  it('runs apt-get update at most once per host in one rollout, however many packages it installs', async () => {
    const fake = fakeHost({ kept: 'none' });
    const session = startAptSession([repository]);
    await Promise.all([
      installPackageStep(fake.pool, host, { name: 'hello', from: undefined, to: '1.1' }, session),
      installPackageStep(fake.pool, host, { name: 'other', from: undefined, to: '2.0' }, session),
    ]);
    expect(fake.calls.filter((call) => call === 'update')).toHaveLength(1);
    expect(fake.calls.filter((call) => call === 'install-repository')).toHaveLength(2);
  });

  it('updates again after a failed update, which it classifies (repository down: transient)', async () => {
    const down = { code: 100, stdout: 'E: Failed to fetch http://10.78.0.1:8999/dists/stable/InRelease  Could not connect to 10.78.0.1:8999 (10.78.0.1). - connect (111: Connection refused)\n', stderr: '' };
    const fake = fakeHost({ kept: 'none', update: [down] });
    const session = startAptSession([repository]);
    await expect(installPackageStep(fake.pool, host, { name: 'hello', from: undefined, to: '1.1' }, session)).rejects.toMatchObject({ code: 'E_APT_UNREACHABLE', errorClass: 'transient' });
    await installPackageStep(fake.pool, host, { name: 'hello', from: undefined, to: '1.1' }, session);
    expect(fake.calls.filter((call) => call === 'update')).toHaveLength(2);
  });

  it('an unpinned package goes straight to the repository: no kept .deb can say which version apt would pick', async () => {
    const fake = fakeHost({ kept: 'installed' });
    await installPackageStep(fake.pool, host, { name: 'hello', from: undefined, to: undefined }, startAptSession([repository]));
    expect(fake.calls).toEqual(['write', 'write', 'update', 'install-repository']);
  });
});
