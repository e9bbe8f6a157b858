import { createHash } from 'node:crypto';

import type { RepoEntry, RepoEntryType, RepoReader } from '../../../src/spec/index.js';
import type { RepoFile, RepoFiles } from './fixture-repo.js';

/**
 * A commit held in memory that names its entries as git does: a file's id is the hash of its bytes, a
 * directory's the hash of its listing, so an entry keeps its id exactly while its content stays the same.
 * It records every path whose bytes are read, and `failing` paths throw on read, as a broken disk would.
 */
export interface RecordingReader extends RepoReader {
  readonly reads: string[];
}

export function contentAddressedReader(files: RepoFiles, failing: ReadonlySet<string> = new Set()): RecordingReader {
  const children = new Map<string, Map<string, RepoFile | 'dir'>>([['', new Map()]]);
  for (const [path, content] of Object.entries(files)) {
    const segments = path.split('/');
    for (let depth = 0; depth < segments.length; depth += 1) {
      const dir = segments.slice(0, depth).join('/');
      const name = segments[depth] ?? '';
      const isLast = depth === segments.length - 1;
      let listing = children.get(dir);
      if (listing === undefined) {
        listing = new Map();
        children.set(dir, listing);
      }
      listing.set(name, isLast ? content : 'dir');
    }
  }
  const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);
  const typeOf = (content: RepoFile | 'dir'): RepoEntryType => (content === 'dir' ? 'dir' : typeof content === 'object' && !(content instanceof Uint8Array) ? 'symlink' : 'file');
  const bytesOf = (content: RepoFile): Uint8Array => (typeof content === 'string' ? new TextEncoder().encode(content) : content instanceof Uint8Array ? content : new TextEncoder().encode(content.symlink));
  const ids = new Map<string, string>();
  const idOf = (path: string, content: RepoFile | 'dir'): string => {
    const known = ids.get(path);
    if (known !== undefined) return known;
    const hash = createHash('sha256').update(typeOf(content));
    if (content === 'dir') for (const entry of listingOf(path)) hash.update(`\0${entry.name}\0${entry.type}\0${entry.id ?? ''}`);
    else hash.update(bytesOf(content));
    const id = hash.digest('hex');
    ids.set(path, id);
    return id;
  };
  const listingOf = (dir: string): RepoEntry[] =>
    [...(children.get(dir) ?? new Map<string, RepoFile | 'dir'>())].map(([name, content]) => ({ name, type: typeOf(content), id: idOf(join(dir, name), content) }));
  const contentAt = (path: string): RepoFile => {
    const content = files[path];
    if (content === undefined) throw new Error(`no file at ${path}`);
    return content;
  };
  const reads: string[] = [];
  return {
    reads,
    list: async (path) => {
      if (!children.has(path)) throw new Error(`no directory at ${path}`);
      return listingOf(path);
    },
    size: async (path) => bytesOf(contentAt(path)).length,
    readFile: async (path) => {
      reads.push(path);
      if (failing.has(path)) throw new Error('EIO: i/o error');
      return bytesOf(contentAt(path));
    },
    readLink: async (path) => {
      const content = contentAt(path);
      if (typeof content === 'string' || content instanceof Uint8Array) throw new Error(`not a symlink: ${path}`);
      return content.symlink;
    },
  };
}
