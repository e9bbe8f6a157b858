import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

import type { RepoEntry, RepoEntryType, RepoReader } from './repo-reader.js';

/**
 * A `RepoReader` over a directory on disk (a working tree, a test fixture). It never follows a
 * symlink: every component of a path is checked with lstat, and the final open uses O_NOFOLLOW, so a link
 * planted in the repo cannot make tend read outside it. O_NONBLOCK keeps a FIFO from hanging the open.
 */
export function directoryReader(root: string): RepoReader {
  async function resolve(path: string): Promise<string> {
    const segments = path === '' ? [] : path.split('/');
    for (const segment of segments) {
      if (segment === '' || segment === '.' || segment === '..' || segment.includes('\\')) {
        throw new Error(`refusing a path that is not a plain repo path: ${JSON.stringify(path)}`);
      }
    }
    let current = root;
    for (const [index, segment] of segments.entries()) {
      current = join(current, segment);
      const isLast = index === segments.length - 1;
      if (!isLast) {
        const stats = await lstat(current);
        if (!stats.isDirectory()) throw new Error(`not a directory inside the repo: ${segments.slice(0, index + 1).join('/')}`);
      }
    }
    return current;
  }

  return {
    async list(path) {
      const absolute = await resolve(path);
      const stats = await lstat(absolute);
      if (!stats.isDirectory()) throw new Error(`not a directory: ${path === '' ? '.' : path}`);
      const dirents = await readdir(absolute, { withFileTypes: true });
      return dirents.map((dirent): RepoEntry => {
        const type: RepoEntryType = dirent.isSymbolicLink()
          ? 'symlink'
          : dirent.isDirectory()
            ? 'dir'
            : dirent.isFile()
              ? 'file'
              : 'other';
        return { name: dirent.name, type };
      });
    },

    async size(path) {
      const stats = await lstat(await resolve(path));
      if (!stats.isFile()) throw new Error(`not a regular file: ${path}`);
      return stats.size;
    },

    async readFile(path) {
      const handle = await open(await resolve(path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) throw new Error(`not a regular file: ${path}`);
        return new Uint8Array(await handle.readFile());
      } finally {
        await handle.close();
      }
    },

    async readLink(path) {
      return readlink(await resolve(path));
    },
  };
}
