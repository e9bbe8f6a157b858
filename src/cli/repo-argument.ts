import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './usage-error.js';

/** A deploy repo directory named on the command line (default: the current directory). */
export interface RepoArgument {
  readonly absolute: string;
  /** As the user should see it in `file:line:col`, relative to where they ran tend. */
  readonly display: string;
}

export async function resolveRepoArgument(given: string | undefined, cwd: string): Promise<RepoArgument> {
  const absolute = path.resolve(cwd, given ?? '.');
  const info = await stat(absolute).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new UsageError(`${given ?? '.'} is not a directory`, 'Name the folder of the deploy repo (the one holding inventory.yml).');
  }
  const display = path.relative(cwd, absolute);
  return { absolute, display };
}

/** Prefixes a repo-relative path with the repo as the user named it, so editors and CI can jump to it. */
export function displayPath(repo: RepoArgument, file: string): string {
  return repo.display === '' ? file : `${repo.display}/${file}`;
}
