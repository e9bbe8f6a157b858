import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Issue } from '../../../src/errors/index.js';
import type { RepoSpec, ServiceSpec } from '../../../src/spec/index.js';
import { directoryReader, loadRepo } from '../../../src/spec/index.js';
import type { LoadResult } from '../../../src/spec/index.js';
import { writeRepo } from './fixture-repo.js';
import type { RepoFiles } from './fixture-repo.js';

/** Writes the repo to a fresh temporary directory, loads it, and removes the directory. */
export async function loadFiles(files: RepoFiles): Promise<LoadResult> {
  const root = await mkdtemp(join(tmpdir(), 'tend-spec-'));
  try {
    await writeRepo(root, files);
    return await loadRepo(directoryReader(root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export async function loadValid(files: RepoFiles): Promise<{ repo: RepoSpec; warnings: Issue[] }> {
  const result = await loadFiles(files);
  if (!result.ok) throw new Error(`expected a valid repo, got:\n${result.issues.map((issue) => `${issue.file}:${issue.line}:${issue.col}: ${issue.message} (${issue.code})`).join('\n')}`);
  return result;
}

export async function loadIssues(files: RepoFiles): Promise<Issue[]> {
  const result = await loadFiles(files);
  if (result.ok) throw new Error('expected issues, but the repo is valid');
  return result.issues;
}

export function serviceNamed(repo: RepoSpec, name: string): ServiceSpec {
  const service = repo.services.find((candidate) => candidate.name === name);
  if (service === undefined) throw new Error(`no service ${name}`);
  return service;
}
