import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAptRepository } from '../../../src/render/index.js';
import { directoryReader, loadRepo, type RepoSpec } from '../../../src/spec/index.js';

/**
 * deploy-repo-example/packaging/ holds the README's recipes for shipping a deb per service (greeter) and a
 * tarball from an artifact store (clock); they are kept out of the example's services/ (the e2e tests and
 * the demo deploy those with no apt repository and no store). Assembled as the README says, together with
 * the example's inventory and services, they must load and render as documented, so the recipes cannot rot.
 */
const EXAMPLE = resolve(fileURLToPath(new URL('../../../deploy-repo-example', import.meta.url)));
const RECIPE = join(EXAMPLE, 'packaging', 'greeter');
const URL_RECIPE = join(EXAMPLE, 'packaging', 'clock');
let root: string;
let repo: RepoSpec;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tend-example-package-'));
  await cp(EXAMPLE, root, { recursive: true });
  await mkdir(join(root, 'services', 'greeter'));
  await cp(join(RECIPE, 'spec.yml'), join(root, 'services', 'greeter', 'spec.yml'));
  await cp(join(RECIPE, 'tend.yml'), join(root, 'tend.yml'));
  await cp(join(RECIPE, 'apt'), join(root, 'apt'), { recursive: true });
  await mkdir(join(root, 'services', 'clock'));
  await cp(join(URL_RECIPE, 'spec.yml'), join(root, 'services', 'clock', 'spec.yml'));
  const loaded = await loadRepo(directoryReader(root));
  if (!loaded.ok) throw new Error(loaded.issues.map((issue) => `${issue.file}:${issue.line}: ${issue.message}`).join('\n'));
  repo = loaded.repo;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the example recipe for a service shipped as a deb', () => {
  it('loads as a package run of the pinned version whose unit runs the package\'s binary', () => {
    const greeter = repo.services.find((service) => service.name === 'greeter');
    expect(greeter?.run).toEqual({ kind: 'package', package: 'greeter', version: '1.0.0-1', argv: ['/usr/bin/greeter'] });
  });

  it('writes its repository as a deb822 source signed by the committed key, never trusted', () => {
    const [team] = repo.settings.aptRepositories;
    expect(team?.name).toBe('team');
    const rendered = renderAptRepository(team!);
    expect(rendered.sources.content).toContain('Signed-By: /etc/apt/keyrings/tend-team.gpg\n');
    expect(rendered.sources.content).not.toContain('Trusted');
    expect(rendered.keyring?.path).toBe('/etc/apt/keyrings/tend-team.gpg');
  });
});

describe('the example recipe for a service shipped as a tarball from an artifact store', () => {
  it('loads as a url run that each host downloads with the bearer token of a secret, and runs bin/clock from inside the tarball', () => {
    const clock = repo.services.find((service) => service.name === 'clock');
    expect(clock?.run).toMatchObject({
      kind: 'url',
      url: 'https://artifacts.example.com/clock/clock-1.0.0.tar.gz',
      sha256: '13cb7dba368363f5252ccddc30cab5a708f82fc4bb0322021db82cbee2593cf7',
      downloadName: 'clock-1.0.0.tar.gz',
      archive: 'tar.gz',
      fileName: 'bin/clock',
      fetch: 'host',
      credentials: { scheme: 'bearer', secret: 'artifact_token' },
      argv: ['/var/lib/tend/releases/clock/current/bin/clock'],
    });
  });
});
