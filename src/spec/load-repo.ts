import { posix } from 'node:path';

import { asTendError, sortIssues } from '../errors/index.js';
import type { Issue } from '../errors/index.js';
import { buildAptRepositories } from './apt-repositories.js';
import { buildInventory, buildSettings } from './build-inventory.js';
import type { BuiltInventory } from './build-inventory.js';
import { buildService } from './build-service.js';
import type { BuiltService } from './build-service.js';
import { checkCrossRules } from './cross-rules.js';
import type { DeclaredService } from './cross-rules.js';
import { DEFAULT_LOAD_LIMITS } from './defaults.js';
import type { LoadLimits } from './defaults.js';
import { fileStart, specIssue } from './issue-codes.js';
import { keepable } from './load-cache.js';
import type { CachedFile, CachedFileValues, CachedServiceFolder, LoadCache, LoadCacheSession } from './load-cache.js';
import type { RepoSpec } from './model.js';
import { RepoReadError, guardReader, joinRepoPath } from './repo-reader.js';
import type { RepoEntry, RepoReader } from './repo-reader.js';
import { validateAgainstSchema } from './schema-validation.js';
import type { SchemaName } from './schema-validation.js';
import { parseYamlFile } from './yaml-document.js';
import type { YamlFile } from './yaml-document.js';

export interface LoadOptions {
  readonly limits?: Partial<LoadLimits>;
  /** Parts of the last load that this one may reuse where the reader gives the same content id. */
  readonly cache?: LoadCache;
}

export type LoadResult =
  | { readonly ok: true; readonly repo: RepoSpec; readonly warnings: Issue[] }
  | { readonly ok: false; readonly issues: Issue[] };

/**
 * Loads and validates one commit of a deploy repo: every file, every rule, before anything touches a
 * host. Every problem found is returned (sorted), none is thrown; only a bug in tend throws, as an
 * InternalError. Files are read only through `reader`, so the same code validates a working directory
 * or a git tree.
 */
export async function loadRepo(reader: RepoReader, options: LoadOptions = {}): Promise<LoadResult> {
  try {
    const session = options.cache?.startLoad();
    const result = await new RepoLoader(guardReader(reader), { ...DEFAULT_LOAD_LIMITS, ...options.limits }, session).load();
    session?.end();
    return result;
  } catch (error) {
    throw asTendError(error);
  }
}

function describeReadError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const ALTERNATE_SPELLINGS: Readonly<Record<string, string>> = {
  'inventory.yml': 'inventory.yaml',
  'tend.yml': 'tend.yaml',
  'spec.yml': 'spec.yaml',
};

interface SizeLimit {
  readonly bytes: number;
  readonly what: string;
  readonly hint: string;
}

interface FileCache<T> {
  find(key: string): CachedFile<T> | undefined;
  keep(key: string, file: CachedFile<T>): void;
}

class RepoLoader {
  private readonly issues: Issue[] = [];
  private readonly warnings: Issue[] = [];
  /** Read failures that left no E_READ issue behind (a symlink's target); what saw one is not cached. */
  private quietReadFailures = 0;

  constructor(
    private readonly reader: RepoReader,
    private readonly limits: LoadLimits,
    private readonly cache: LoadCacheSession | undefined,
  ) {}

  async load(): Promise<LoadResult> {
    const root = await this.list('');
    if (root === undefined) return this.result(undefined);

    const built = await this.readYaml(root, '', 'inventory.yml', 'inventory', true, buildInventory, this.fileCache('inventory'));
    let inventory: BuiltInventory | undefined;
    if (built !== undefined) {
      if (built.ok) inventory = built.value;
      else this.issues.push(...built.issues);
    }

    const settingsDoc = await this.readYaml(root, '', 'tend.yml', 'tend', false, (doc) => doc, this.fileCache('settings'));
    const settingsFailed = settingsDoc === undefined && root.some((entry) => entry.name === 'tend.yml');
    const apt = await buildAptRepositories(settingsDoc, this.reader);
    this.issues.push(...apt.issues);
    const settings = buildSettings(settingsDoc, apt.repositories);

    const { services, declared, folders } = await this.loadServices(root);
    const cross = checkCrossRules({ declared, services, folders, inventory });
    this.issues.push(...cross.issues);
    this.warnings.push(...cross.warnings);

    if (inventory === undefined || settingsFailed) return this.result(undefined);
    return this.result({
      inventory: inventory.inventory,
      services: services.map((service) => service.spec).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      settings,
    });
  }

  private result(repo: RepoSpec | undefined): LoadResult {
    if (this.issues.length > 0 || repo === undefined) {
      return { ok: false, issues: sortIssues(this.issues) };
    }
    return { ok: true, repo, warnings: sortIssues(this.warnings) };
  }

  private async list(path: string): Promise<readonly RepoEntry[] | undefined> {
    try {
      return await this.reader.list(path);
    } catch (error) {
      this.issues.push(specIssue('E_READ', fileStart(path === '' ? '.' : path), `cannot read the directory: ${describeReadError(error)}`, 'Check that the path exists and is readable.'));
      return undefined;
    }
  }

  private async symlinkIssue(path: string, what: string): Promise<void> {
    let target = '?';
    try {
      target = await this.reader.readLink(path);
    } catch {
      // The target only makes the message nicer; the symlink is refused either way.
      this.quietReadFailures += 1;
    }
    this.issues.push(specIssue('E_SYMLINK', fileStart(path), `${what} is a symlink (to ${target})`, 'Commit the real file or directory here; tend does not follow symlinks.'));
  }

  /**
   * Reads, schema-checks and builds one YAML file; undefined when it is missing or has any issue (recorded).
   * A file `cached` holds under the entry's content id is not read again: its outcome is added as it was.
   */
  private async readYaml<T>(
    entries: readonly RepoEntry[],
    dir: string,
    name: string,
    schema: SchemaName,
    required: boolean,
    build: (doc: YamlFile) => T,
    cached?: FileCache<T>,
  ): Promise<T | undefined> {
    const path = joinRepoPath(dir, name);
    const entry = entries.find((candidate) => candidate.name === name);
    if (entry === undefined) {
      if (required) {
        const alternate = ALTERNATE_SPELLINGS[name];
        const misspelled = alternate !== undefined && entries.some((candidate) => candidate.name === alternate);
        this.issues.push(
          specIssue('E_MISSING_FILE', fileStart(path), `${path} does not exist`, misspelled ? `Rename ${joinRepoPath(dir, alternate ?? '')} to ${path}.` : `Create ${path}.`),
        );
      }
      return undefined;
    }
    if (entry.type === 'symlink') {
      await this.symlinkIssue(path, path);
      return undefined;
    }
    if (entry.type !== 'file') {
      this.issues.push(specIssue('E_NOT_A_FILE', fileStart(path), `${path} is not a regular file`, `Make ${path} a YAML file.`));
      return undefined;
    }
    const limit = this.sizeLimit(schema);
    const key = entry.id === undefined ? undefined : `${path}\u0000${entry.id}`;
    const found = key === undefined ? undefined : cached?.find(key);
    if (found !== undefined && found.size > limit.bytes) {
      // What a fresh read says: the size is known before reading, and this load's limit is lower.
      this.issues.push(specIssue('E_FILE_TOO_LARGE', fileStart(path), `${path} is ${found.size} bytes, over the limit of ${limit.bytes} bytes for ${limit.what}`, limit.hint));
      return undefined;
    }
    const file = found ?? (await this.readYamlAfresh(path, schema, limit, build));
    if (file === undefined) return undefined;
    if (key !== undefined && found === undefined) cached?.keep(key, file);
    if (!file.outcome.ok) {
      this.issues.push(...file.outcome.issues);
      return undefined;
    }
    return file.outcome.value;
  }

  /** undefined when the file could not be read or is too large (recorded: nothing about it is cached). */
  private async readYamlAfresh<T>(path: string, schema: SchemaName, limit: SizeLimit, build: (doc: YamlFile) => T): Promise<CachedFile<T> | undefined> {
    let bytes: Uint8Array;
    try {
      const size = await this.reader.size(path);
      if (size > limit.bytes) {
        this.issues.push(specIssue('E_FILE_TOO_LARGE', fileStart(path), `${path} is ${size} bytes, over the limit of ${limit.bytes} bytes for ${limit.what}`, limit.hint));
        return undefined;
      }
      bytes = await this.reader.readFile(path);
    } catch (error) {
      this.issues.push(specIssue('E_READ', fileStart(path), `cannot read ${path}: ${describeReadError(error)}`, 'Check that the file is readable.'));
      return undefined;
    }
    // The size was checked before reading, but a reader may not know sizes exactly (or the file grew).
    if (bytes.length > limit.bytes) {
      this.issues.push(specIssue('E_FILE_TOO_LARGE', fileStart(path), `${path} is over the limit of ${limit.bytes} bytes for ${limit.what}`, limit.hint));
      return undefined;
    }
    const parsed = parseYamlFile(path, bytes);
    if (!parsed.ok) return { size: bytes.length, outcome: { ok: false, issues: parsed.issues } };
    const schemaIssues = validateAgainstSchema(schema, parsed.doc);
    if (schemaIssues.length > 0) return { size: bytes.length, outcome: { ok: false, issues: schemaIssues } };
    return { size: bytes.length, outcome: { ok: true, value: build(parsed.doc) } };
  }

  /** The cache's parts for one kind of file, or none without a cache. */
  private fileCache<K extends keyof CachedFileValues>(part: K): FileCache<CachedFileValues[K]> | undefined {
    const session = this.cache;
    if (session === undefined) return undefined;
    return { find: (key) => session.findFile(part, key), keep: (key, file) => session.keepFile(part, key, file) };
  }

  private sizeLimit(schema: SchemaName): SizeLimit {
    if (schema === 'inventory') {
      return { bytes: this.limits.maxInventoryBytes, what: 'an inventory', hint: 'The limit holds 10,000 hosts with room to spare; look for generated bulk (repeated comments, data that is not hosts and groups).' };
    }
    return { bytes: this.limits.maxSpecBytes, what: schema === 'spec' ? 'a spec' : 'tend.yml', hint: 'A spec or tend.yml is a few kilobytes; move data out of it.' };
  }

  private async loadServices(root: readonly RepoEntry[]): Promise<{ services: BuiltService[]; declared: DeclaredService[]; folders: Set<string> }> {
    const services: BuiltService[] = [];
    const declared: DeclaredService[] = [];
    const folders = new Set<string>();
    const entry = root.find((candidate) => candidate.name === 'services');
    if (entry === undefined) return { services, declared, folders };
    if (entry.type === 'symlink') {
      await this.symlinkIssue('services', 'the services directory');
      return { services, declared, folders };
    }
    if (entry.type !== 'dir') {
      this.issues.push(specIssue('E_NOT_A_FILE', fileStart('services'), 'services is not a directory', 'services/ holds one folder per service, each with a spec.yml.'));
      return { services, declared, folders };
    }
    const entries = await this.list('services');
    if (entries === undefined) return { services, declared, folders };
    for (const folder of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const dir = joinRepoPath('services', folder.name);
      if (folder.type === 'file') continue;
      if (folder.type === 'symlink') {
        await this.symlinkIssue(dir, `the service folder ${dir}`);
        continue;
      }
      if (folder.type === 'other') {
        this.issues.push(specIssue('E_NOT_A_FILE', fileStart(dir), `${dir} is neither a file nor a directory`, 'Remove it.'));
        continue;
      }
      folders.add(folder.name);
      const built = await this.loadServiceFolder(folder, dir);
      if (built.declared !== undefined) declared.push(built.declared);
      if (built.service !== undefined) services.push(built.service);
    }
    return { services, declared, folders };
  }

  /**
   * A folder the cache holds under the same tree id (and the same limits) adds the issues it added when it
   * was read: a folder holds everything its service reads (its spec, its artifact), so it is that service.
   */
  private async loadServiceFolder(folder: RepoEntry, dir: string): Promise<CachedServiceFolder> {
    const key = folder.id === undefined ? undefined : `${dir}\u0000${folder.id}\u0000${this.limits.maxSpecBytes}\u0000${this.limits.maxArtifactBytes}`;
    const found = key === undefined ? undefined : this.cache?.findServiceFolder(key);
    if (found !== undefined) {
      this.issues.push(...found.issues);
      return found;
    }
    const issuesBefore = this.issues.length;
    const quietBefore = this.quietReadFailures;
    const built = await this.loadService(folder.name, dir);
    const read: CachedServiceFolder = { issues: this.issues.slice(issuesBefore), declared: built?.declared, service: built?.service };
    if (key !== undefined && keepable(read.issues) && this.quietReadFailures === quietBefore) this.cache?.keepServiceFolder(key, read);
    return read;
  }

  private async loadService(folder: string, dir: string): Promise<{ declared?: DeclaredService; service?: BuiltService } | undefined> {
    const entries = await this.list(dir);
    if (entries === undefined) return undefined;
    await this.checkEscapingSymlinks(dir, entries);
    const doc = await this.readYaml(entries, dir, 'spec.yml', 'spec', true, (parsed) => parsed);
    if (doc === undefined) return undefined;
    const name = (doc.value as { service: { name: string } }).service.name;
    const declared: DeclaredService = { name, at: doc.at('/service/name') };
    try {
      const result = await buildService(doc, { reader: this.reader, folder, maxArtifactBytes: this.limits.maxArtifactBytes });
      if (!result.ok) {
        this.issues.push(...result.issues);
        return { declared };
      }
      return { declared, service: result.service };
    } catch (error) {
      // Reads of the artifact are the only effects in buildService; any other error is a tend bug.
      if (!(error instanceof RepoReadError)) throw error;
      this.issues.push(specIssue('E_READ', fileStart(error.path), `cannot read ${error.path}: ${error.message}`, 'Check that the file is readable.'));
      return { declared };
    }
  }

  /** A symlink pointing out of the repo is refused even when unused: it is one edit away from shipping /etc/shadow. */
  private async checkEscapingSymlinks(dir: string, entries: readonly RepoEntry[]): Promise<void> {
    for (const entry of entries) {
      if (entry.type !== 'symlink') continue;
      const path = joinRepoPath(dir, entry.name);
      let target: string;
      try {
        target = await this.reader.readLink(path);
      } catch (error) {
        this.issues.push(specIssue('E_READ', fileStart(path), `cannot read the symlink ${path}: ${describeReadError(error)}`, 'Remove the symlink.'));
        continue;
      }
      const resolved = posix.normalize(posix.join(dir, target));
      if (posix.isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
        this.issues.push(specIssue('E_SYMLINK', fileStart(path), `${path} is a symlink that leaves the repo (to ${target})`, 'Commit the file itself, or remove the symlink.'));
      }
    }
  }
}
