import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAptRepository } from '../../../src/render/index.js';
import { directoryReader, loadRepo, type RepoSpec } from '../../../src/spec/index.js';

/**
 * deploy-repo-example/packaging/greeter is the README's recipe for shipping a deb per service; it is kept
 * out of the example's services/ (the e2e tests deploy those with no apt repository). Assembled as the
 * README says, it must load and render as documented, so the recipe cannot rot.
 */
const EXAMPLE = resolve(fileURLToPath(new URL('../../../deploy-repo-example', import.meta.url)));
const RECIPE = join(EXAMPLE, 'packaging', 'greeter');
let root: string;
let repo: RepoSpec;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tend-example-package-'));
  await cp(EXAMPLE, root, { recursive: true });
  await mkdir(join(root, 'services', 'greeter'));
  await cp(join(RECIPE, 'spec.yml'), join(root, 'services', 'greeter', 'spec.yml'));
  await cp(join(RECIPE, 'tend.yml'), join(root, 'tend.yml'));
  await cp(join(RECIPE, 'apt'), join(root, 'apt'), { recursive: true });
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
