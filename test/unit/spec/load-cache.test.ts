import { describe, expect, it } from 'vitest';

import { LoadCache, loadRepo } from '../../../src/spec/index.js';
import type { LoadOptions, LoadResult } from '../../../src/spec/index.js';
import { contentAddressedReader } from './content-addressed-reader.js';
import { API_ARTIFACT, ARTICLE_SPEC, BASE_INVENTORY, SPEC_PATH, baseRepo } from './fixture-repo.js';
import type { RepoFile, RepoFiles } from './fixture-repo.js';

const WORKER_SPEC = ARTICLE_SPEC.replace('name: api', 'name: worker').replace('group: web', 'group: db').replaceAll('8080', '9000');
const WORKER_SPEC_PATH = 'services/worker/spec.yml';

/** Two services on two groups, so a commit can change one and leave the other alone. */
function commitA(): Record<string, RepoFile> {
  return { ...baseRepo(), [WORKER_SPEC_PATH]: WORKER_SPEC, 'services/worker/worker': '#!/bin/sh\nexec sleep infinity\n' };
}

function changed(files: RepoFiles, changes: Readonly<Record<string, RepoFile | null>>): Record<string, RepoFile> {
  const next: Record<string, RepoFile> = { ...files };
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) delete next[path];
    else next[path] = content;
  }
  return next;
}

const BROKEN_YAML = 'service:\n  name: [api\n';

/** Commit B, as a change of commit A (each differs from A by exactly what its name says). */
const NEXT_COMMITS: readonly { readonly name: string; readonly a: RepoFiles; readonly b: RepoFiles }[] = [
  { name: 'a spec changes', a: commitA(), b: changed(commitA(), { [WORKER_SPEC_PATH]: WORKER_SPEC.replace('Kinescope API', 'Worker') }) },
  { name: 'an artifact changes', a: commitA(), b: changed(commitA(), { 'services/api/api': `${API_ARTIFACT}# v2\n` }) },
  {
    name: 'the inventory changes',
    a: commitA(),
    b: changed(commitA(), { 'inventory.yml': BASE_INVENTORY.replace('groups:\n', '  web-3: { address: 10.78.0.13, host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0iV67QcqR0ahp+L8ZG4PtHVhbPFBnGHlQ5pxepSHXN" }\ngroups:\n').replace('[web-1, web-2]', '[web-1, web-2, web-3]') }),
  },
  { name: 'a spec breaks its YAML', a: commitA(), b: changed(commitA(), { [SPEC_PATH]: BROKEN_YAML }) },
  { name: 'a spec breaks its schema', a: commitA(), b: changed(commitA(), { [SPEC_PATH]: ARTICLE_SPEC.replace('    serial: 1\n', '    serial: 1\n    surge: 2\n') }) },
  { name: 'the inventory breaks its schema', a: commitA(), b: changed(commitA(), { 'inventory.yml': BASE_INVENTORY.replace('address: 10.78.0.11, ', '') }) },
  { name: 'the inventory breaks a host key', a: commitA(), b: changed(commitA(), { 'inventory.yml': BASE_INVENTORY.replace('AAAAC3NzaC1lZDI1NTE5AAAAILxCCF', 'AAAAC3NzaC1lZDI1NTE5AAAAILxCC') }) },
  {
    name: 'a broken spec stays broken while another spec changes',
    a: changed(commitA(), { [SPEC_PATH]: BROKEN_YAML }),
    b: changed(commitA(), { [SPEC_PATH]: BROKEN_YAML, [WORKER_SPEC_PATH]: WORKER_SPEC.replace('Kinescope API', 'Worker') }),
  },
  {
    name: 'a broken artifact hash stays while the inventory changes',
    a: changed(commitA(), { [SPEC_PATH]: ARTICLE_SPEC.replace('  limits:\n', '  run:\n    sha256: "0000000000000000000000000000000000000000000000000000000000000000"\n  limits:\n') }),
    b: changed(commitA(), { [SPEC_PATH]: ARTICLE_SPEC.replace('  limits:\n', '  run:\n    sha256: "0000000000000000000000000000000000000000000000000000000000000000"\n  limits:\n'), 'inventory.yml': BASE_INVENTORY.replace('user: deploy, host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0iV67', 'user: ops, host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0iV67') }),
  },
  { name: 'the inventory renames the group unchanged specs are placed on', a: commitA(), b: changed(commitA(), { 'inventory.yml': BASE_INVENTORY.replace('  web: [', '  webs: [') }) },
  { name: 'an unchanged service folder is renamed', a: commitA(), b: changed(commitA(), { [WORKER_SPEC_PATH]: null, 'services/worker/worker': null, 'services/jobs/spec.yml': WORKER_SPEC, 'services/jobs/worker': '#!/bin/sh\nexec sleep infinity\n' }) },
  { name: 'a service folder is removed', a: commitA(), b: changed(commitA(), { [WORKER_SPEC_PATH]: null, 'services/worker/worker': null }) },
  { name: 'tend.yml is added', a: commitA(), b: changed(commitA(), { 'tend.yml': 'concurrency: 4\n' }) },
  { name: 'tend.yml breaks', a: changed(commitA(), { 'tend.yml': 'concurrency: 4\n' }), b: changed(commitA(), { 'tend.yml': 'concurrency: many\n' }) },
  { name: 'a spec is fixed', a: changed(commitA(), { [SPEC_PATH]: BROKEN_YAML }), b: commitA() },
  { name: 'the inventory is fixed', a: changed(commitA(), { 'inventory.yml': 'hosts: [\n' }), b: commitA() },
];

async function fresh(files: RepoFiles, options: LoadOptions = {}): Promise<LoadResult> {
  return loadRepo(contentAddressedReader(files), options);
}

describe('LoadCache: the next commit is loaded from what changed, with the result of a fresh load', () => {
  it.each(NEXT_COMMITS)('$name: commit B loaded after A through the cache is what a fresh load of B gives', async ({ a, b }) => {
    const cache = new LoadCache();
    await loadRepo(contentAddressedReader(a), { cache });
    const cached = await loadRepo(contentAddressedReader(b), { cache });
    expect(cached).toEqual(await fresh(b));
  });

  it('reads only the changed service folder of the next commit', async () => {
    const cache = new LoadCache();
    await loadRepo(contentAddressedReader(commitA()), { cache });
    const next = contentAddressedReader(changed(commitA(), { [WORKER_SPEC_PATH]: WORKER_SPEC.replace('Kinescope API', 'Worker') }));
    expect((await loadRepo(next, { cache })).ok).toBe(true);
    expect(next.reads.sort()).toEqual([WORKER_SPEC_PATH, 'services/worker/worker']);
  });

  it("applies the next load's own size limit to a file it does not read again", async () => {
    const cache = new LoadCache();
    await loadRepo(contentAddressedReader(commitA()), { cache });
    const limits = { maxInventoryBytes: 100 };
    const cached = await loadRepo(contentAddressedReader(commitA()), { cache, limits });
    expect(cached).toEqual(await fresh(commitA(), { limits }));
    expect(cached).toEqual({ ok: false, issues: [expect.objectContaining({ code: 'E_FILE_TOO_LARGE', file: 'inventory.yml' })] });
  });

  it('does not keep what a read failure gave: the next load reads that file again', async () => {
    const cache = new LoadCache();
    const failed = await loadRepo(contentAddressedReader(commitA(), new Set(['services/api/api'])), { cache });
    expect(failed).toEqual({ ok: false, issues: [expect.objectContaining({ code: 'E_READ', file: 'services/api/api' })] });
    const next = contentAddressedReader(commitA());
    expect(await loadRepo(next, { cache })).toEqual(await fresh(commitA()));
    expect(next.reads.sort()).toEqual(['services/api/api', SPEC_PATH]);
  });

  it('keeps only what the last loaded commit has: a folder gone from it is read again when it comes back', async () => {
    const cache = new LoadCache();
    await loadRepo(contentAddressedReader(commitA()), { cache });
    await loadRepo(contentAddressedReader(changed(commitA(), { [WORKER_SPEC_PATH]: null, 'services/worker/worker': null })), { cache });
    const back = contentAddressedReader(commitA());
    expect(await loadRepo(back, { cache })).toEqual(await fresh(commitA()));
    expect(back.reads.sort()).toEqual([WORKER_SPEC_PATH, 'services/worker/worker']);
  });

  it('reads every file of a reader that gives no content ids', async () => {
    const cache = new LoadCache();
    const withoutIds = (files: RepoFiles) => {
      const reader = contentAddressedReader(files);
      return { ...reader, list: async (path: string) => (await reader.list(path)).map(({ name, type }) => ({ name, type })) };
    };
    await loadRepo(withoutIds(commitA()), { cache });
    const again = withoutIds(commitA());
    await loadRepo(again, { cache });
    expect(again.reads.sort()).toEqual(Object.keys(commitA()).sort());
  });
});
