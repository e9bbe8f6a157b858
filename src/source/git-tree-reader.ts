import * as fs from 'node:fs';
import * as git from 'isomorphic-git';

import type { RepoEntry, RepoEntryType, RepoReader } from '../spec/index.js';
import { shortCommit } from './commit-id.js';

export interface GitTreeReaderOptions {
  readonly gitdir: string;
  /** isomorphic-git's cache object, shared by every reader of the same directory. */
  readonly cache: object;
  readonly commit: string;
}

/**
 * A RepoReader over the tree of one commit, read from the object store without a checkout. Modes map as
 * a checkout would: 100644 and 100755 are files, 120000 a symlink, a tree a directory, and a gitlink
 * (submodule) is 'other', never read.
 *
 * Git keeps no size outside an object, so `size` inflates the blob; the last blob read is kept, so the
 * loader's size-then-read costs one inflation.
 */
export function gitTreeReader(options: GitTreeReaderOptions): RepoReader {
  const { gitdir, cache, commit } = options;
  const trees = new Map<string, Promise<readonly git.TreeEntry[]>>();
  let lastBlob: { oid: string; bytes: Uint8Array } | undefined;

  function tree(path: string): Promise<readonly git.TreeEntry[]> {
    let entries = trees.get(path);
    if (entries === undefined) {
      entries = (async () => {
        if (path === '') return (await git.readTree({ fs, gitdir, oid: commit, cache })).tree;
        const entry = await entryAt(path);
        if (entry.type !== 'tree') throw new Error(`not a directory: ${path}`);
        return (await git.readTree({ fs, gitdir, oid: entry.oid, cache })).tree;
      })();
      trees.set(path, entries);
    }
    return entries;
  }

  async function entryAt(path: string): Promise<git.TreeEntry> {
    const segments = path.split('/');
    if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
      throw new Error(`refusing a path that is not a plain repo path: ${JSON.stringify(path)}`);
    }
    const name = segments.pop() as string;
    const entry = (await tree(segments.join('/'))).find((candidate) => candidate.path === name);
    if (entry === undefined) throw new Error(`no such path in commit ${shortCommit(commit)}: ${path}`);
    return entry;
  }

  async function blobAt(path: string, want: 'file' | 'symlink'): Promise<Uint8Array> {
    const entry = await entryAt(path);
    if (entryType(entry) !== want) throw new Error(`not a ${want === 'file' ? 'regular file' : 'symlink'}: ${path}`);
    if (lastBlob?.oid !== entry.oid) {
      const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid, cache });
      lastBlob = { oid: entry.oid, bytes: blob };
    }
    return lastBlob.bytes;
  }

  return {
    async list(path) {
      // The object id names the content, so a LoadCache may reuse what it made of an unchanged file or folder.
      return (await tree(path)).map((entry): RepoEntry => ({ name: entry.path, type: entryType(entry), id: entry.oid }));
    },
    async size(path) {
      return (await blobAt(path, 'file')).byteLength;
    },
    async readFile(path) {
      const bytes = await blobAt(path, 'file');
      // The caller owns what it is given; the next size() must not see its changes.
      lastBlob = undefined;
      return bytes;
    },
    async readLink(path) {
      return new TextDecoder().decode(await blobAt(path, 'symlink'));
    },
  };
}

function entryType(entry: git.TreeEntry): RepoEntryType {
  switch (entry.type) {
    case 'tree':
      return 'dir';
    case 'blob':
      return entry.mode === '120000' ? 'symlink' : 'file';
    case 'commit':
      return 'other';
  }
}
