import { createHash } from 'node:crypto';

import type { SpecIssueCode } from './issue-codes.js';
import { joinRepoPath } from './repo-reader.js';
import type { RepoReader } from './repo-reader.js';

/**
 * Finds a service's artifact in the commit and hashes it. The path stays inside the service folder and
 * is walked one listed directory at a time, so neither `..` nor a symlink can make tend ship a file from
 * elsewhere in the repo (or the machine) to every host.
 */

export interface ArtifactRequest {
  readonly folder: string;
  /** As written in run.artifact, or the service name by convention. */
  readonly relativePath: string;
  /** Whether the spec named the artifact (changes the hint when it is missing). */
  readonly explicit: boolean;
  readonly expectedSha256: string | undefined;
  readonly maxBytes: number;
}

export interface ArtifactProblem {
  readonly code: SpecIssueCode;
  readonly message: string;
  readonly hint: string;
}

export type ArtifactResult =
  | { readonly ok: true; readonly path: string; readonly fileName: string; readonly sha256: string }
  | { readonly ok: false; readonly problem: ArtifactProblem };

function problem(code: SpecIssueCode, message: string, hint: string): ArtifactResult {
  return { ok: false, problem: { code, message, hint } };
}

export async function resolveArtifact(reader: RepoReader, request: ArtifactRequest): Promise<ArtifactResult> {
  const folderPath = joinRepoPath('services', request.folder);
  const segments = request.relativePath.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return problem('E_ARTIFACT_PATH', `service.run.artifact: \`${request.relativePath}\` leaves the service folder ${folderPath}/`, `Put the artifact inside ${folderPath}/ and name it relative to that folder, without . or .. segments.`);
  }
  const path = joinRepoPath(folderPath, ...segments);
  const fileName = segments.at(-1) ?? request.relativePath;
  const missingHint = request.explicit
    ? `Commit the file ${path}, or fix run.artifact.`
    : `Without run.artifact, tend runs the file named like the service: commit ${path}, or set run.artifact (or run.package).`;

  let directory = folderPath;
  for (const [index, segment] of segments.entries()) {
    const entries = await reader.list(directory);
    const entry = entries.find((candidate) => candidate.name === segment);
    const here = joinRepoPath(directory, segment);
    const isLast = index === segments.length - 1;
    if (entry === undefined) return problem('E_ARTIFACT_MISSING', `the artifact ${path} does not exist`, missingHint);
    if (entry.type === 'symlink') {
      const target = await reader.readLink(here);
      return problem('E_SYMLINK', `the artifact path ${here} is a symlink (to ${target})`, 'Commit the artifact itself; tend does not follow symlinks.');
    }
    if (!isLast) {
      if (entry.type !== 'dir') return problem('E_ARTIFACT_MISSING', `the artifact ${path} does not exist (${here} is not a directory)`, missingHint);
      directory = here;
      continue;
    }
    if (entry.type !== 'file') return problem('E_NOT_A_FILE', `the artifact ${path} is not a regular file`, 'Point run.artifact at a file.');
  }

  const size = await reader.size(path);
  if (size > request.maxBytes) {
    return problem('E_FILE_TOO_LARGE', `the artifact ${path} is ${size} bytes, over the limit of ${request.maxBytes}`, 'Ship large programs as an OS package (run.package) instead of a file in git.');
  }
  const sha256 = createHash('sha256').update(await reader.readFile(path)).digest('hex');
  if (request.expectedSha256 !== undefined && request.expectedSha256 !== sha256) {
    return problem(
      'E_ARTIFACT_HASH',
      `service.run.sha256 does not match ${path}: the file's sha256 is ${sha256}`,
      'Either the wrong build was committed or run.sha256 is stale: check the file, then update run.sha256.',
    );
  }
  return { ok: true, path, fileName, sha256 };
}
