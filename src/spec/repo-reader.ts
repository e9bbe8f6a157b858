/**
 * How the loader reads one commit of a deploy repo. The loader only ever lists a directory before it
 * reads inside it, so a reader never has to answer for a path it did not list; the same loader can read a
 * working directory (`directoryReader`) or a git tree without checking it out.
 *
 * Paths are relative to the repo root, `/`-separated, without `.` or `..` segments; `''` is the root.
 */
export type RepoEntryType =
  | 'file'
  | 'dir'
  | 'symlink'
  /** Anything else: a FIFO, a socket, a device, a git submodule. Never read. */
  | 'other';

export interface RepoEntry {
  readonly name: string;
  readonly type: RepoEntryType;
  /**
   * Names the content: two entries with the same id hold the same bytes (a directory: the same tree), as
   * git's object ids do, so a `LoadCache` may reuse what it made of it. A reader that cannot promise that
   * (a working directory, which changes under it) leaves it out, and the loader reads afresh.
   */
  readonly id?: string;
}

export interface RepoReader {
  /** Entries of a directory, in any order. */
  list(path: string): Promise<readonly RepoEntry[]>;
  /** Size in bytes of a regular file, so an oversized file is refused before it is read. */
  size(path: string): Promise<number>;
  /** The bytes of a regular file. */
  readFile(path: string): Promise<Uint8Array>;
  /** The target of a symlink, as stored; the loader reports symlinks instead of following them. */
  readLink(path: string): Promise<string>;
}

/** Joins repo-relative path segments: `joinRepoPath('', 'services')` -> `services`. */
export function joinRepoPath(...segments: readonly string[]): string {
  return segments.filter((segment) => segment !== '').join('/');
}

/** A reader failed (I/O, permissions, a path that vanished): a problem with the commit, not a tend bug. */
export class RepoReadError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'RepoReadError';
  }
}

/** Wraps every reader call so its failures arrive as RepoReadError and can be told apart from tend bugs. */
export function guardReader(reader: RepoReader): RepoReader {
  const guard =
    <T>(call: (path: string) => Promise<T>) =>
    async (path: string): Promise<T> => {
      try {
        return await call(path);
      } catch (error) {
        throw new RepoReadError(path, error);
      }
    };
  return {
    list: guard((path) => reader.list(path)),
    size: guard((path) => reader.size(path)),
    readFile: guard((path) => reader.readFile(path)),
    readLink: guard((path) => reader.readLink(path)),
  };
}
