import type { Issue } from '../errors/index.js';
import type { InventoryBuildResult } from './build-inventory.js';
import type { BuiltService } from './build-service.js';
import type { DeclaredService } from './cross-rules.js';
import type { YamlFile } from './yaml-document.js';

/**
 * What one load of a commit hands the next, so a commit that changes one service costs that service, not
 * the whole repo (at 2,000 hosts, parsing the inventory alone is 40% of a whole load). Parts are
 * keyed by the content id the reader gives each entry (a git object id): the same id is the same bytes, so
 * a part found here is exactly what reading it afresh would give, issues and their positions included. A
 * reader that gives no ids (a working directory) is read afresh every time.
 *
 * Bounded by the repo: each load keeps only the parts it used, so parts of files gone from the newest
 * commit are dropped with that load. Owned by whoever loads commit after commit (the daemon's reconciler),
 * never global: two owners never see each other's parts. Loads through one cache may overlap; the one that
 * ends last decides what is kept, which changes only how much the next finds.
 */
export class LoadCache {
  #kept: PartMaps = emptyParts();

  /** @internal the loader's view for one load. */
  startLoad(): LoadCacheSession {
    return new LoadCacheSession(this.#kept, (used) => {
      this.#kept = used;
    });
  }
}

/** A YAML file read and checked, with its size, so a later load applies its own size limit to it. */
export interface CachedFile<T> {
  readonly size: number;
  readonly outcome: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly Issue[] };
}

/** Everything a service folder gave the load: its issues in the order found, and what it declares and builds. */
export interface CachedServiceFolder {
  readonly issues: readonly Issue[];
  readonly declared: DeclaredService | undefined;
  readonly service: BuiltService | undefined;
}

/** What is kept of each YAML file outside the service folders. */
export interface CachedFileValues {
  /** inventory.yml, built: the parsed document with positions is not kept, only what the load uses of it. */
  readonly inventory: InventoryBuildResult;
  readonly settings: YamlFile;
}

type FileMaps = { readonly [K in keyof CachedFileValues]: Map<string, CachedFile<CachedFileValues[K]>> };

interface PartMaps {
  readonly files: FileMaps;
  readonly serviceFolders: Map<string, CachedServiceFolder>;
}

function emptyParts(): PartMaps {
  return { files: { inventory: new Map(), settings: new Map() }, serviceFolders: new Map() };
}

/** One load's view of the cache: finds what the load before kept; what this load finds or reads is kept when it ends. */
export class LoadCacheSession {
  readonly #used = emptyParts();

  constructor(
    private readonly previous: PartMaps,
    private readonly onEnd: (used: PartMaps) => void,
  ) {}

  findFile<K extends keyof CachedFileValues>(part: K, key: string): CachedFile<CachedFileValues[K]> | undefined {
    return findIn(this.#used.files[part], this.previous.files[part], key);
  }

  keepFile<K extends keyof CachedFileValues>(part: K, key: string, file: CachedFile<CachedFileValues[K]>): void {
    this.#used.files[part].set(key, file);
  }

  findServiceFolder(key: string): CachedServiceFolder | undefined {
    return findIn(this.#used.serviceFolders, this.previous.serviceFolders, key);
  }

  keepServiceFolder(key: string, folder: CachedServiceFolder): void {
    this.#used.serviceFolders.set(key, folder);
  }

  /** The load is over: what it used is what the next load may find. */
  end(): void {
    this.onEnd(this.#used);
  }
}

function findIn<T>(used: Map<string, T>, previous: ReadonlyMap<string, T>, key: string): T | undefined {
  const found = used.get(key) ?? previous.get(key);
  if (found !== undefined) used.set(key, found);
  return found;
}

/**
 * A read failure is the machine's, not the content's: an outcome with one is never kept, so the next load
 * reads again.
 */
export function keepable(issues: readonly Issue[]): boolean {
  return !issues.some((issue) => issue.code === 'E_READ');
}
