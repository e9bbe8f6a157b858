import { chmod, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

import type { Logger } from '../observability/index.js';
import { monitoringTargets, monitoringTargetText, type MonitoringTargetFile } from '../render/index.js';
import type { LoadResult } from '../spec/index.js';
import { writeFileAtomically } from '../state/index.js';

/**
 * The daemon's Prometheus file_sd target files (`monitoring.file_sd_dir`): the files `tend render
 * --monitoring` prints, kept on disk for the commit tend deploys. Prometheus re-reads a file_sd file when it
 * changes, so each is replaced whole (temp file, then rename), never seen half written.
 */

/** Prometheus runs as its own user; tend's unit sets UMask=0077, so the mode is explicit. */
const TARGET_FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;

export interface MonitoringFilesChange {
  /** File names written because they were new or differed. */
  readonly written: readonly string[];
  /** File names removed: `.json` files of services gone from the repo or without a metrics_port. */
  readonly removed: readonly string[];
}

/**
 * Makes `dir` hold exactly `<service>.json` for each file: writes those that are new or differ (an unchanged
 * file keeps its inode, so Prometheus sees no change) and removes every other `.json` file, which is why the
 * directory must be tend's own. Files not ending in `.json`, and dotfiles such as a temp file in flight, are
 * left alone.
 */
export async function writeMonitoringFiles(dir: string, files: readonly MonitoringTargetFile[]): Promise<MonitoringFilesChange> {
  await createReadableDirectory(dir);
  const wanted = new Map(files.map((file) => [`${file.service}.json`, monitoringTargetText(file)]));
  const written: string[] = [];
  for (const [name, text] of wanted) {
    const target = path.join(dir, name);
    const current = await readFile(target, 'utf8').catch(() => undefined);
    if (current === text) continue;
    await writeFileAtomically(target, text, TARGET_FILE_MODE);
    written.push(name);
  }
  const removed: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json') || entry.name.startsWith('.') || wanted.has(entry.name)) continue;
    await unlink(path.join(dir, entry.name));
    removed.push(entry.name);
  }
  return { written, removed: removed.sort() };
}

/** Like `mkdir -p`, but the directories it creates get DIRECTORY_MODE whatever the umask; existing ones are left as they are. */
async function createReadableDirectory(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: DIRECTORY_MODE });
  if (first === undefined) return;
  for (let at = path.resolve(dir); at.startsWith(first); at = path.dirname(at)) await chmod(at, DIRECTORY_MODE);
}

/**
 * Called after each pass with the branch head: the first time a head loads as a valid commit, its target
 * files replace the directory's. An invalid head writes nothing (the hosts keep the last good commit, and so
 * does monitoring); a failed write is logged and tried again after the next pass. `load` is the reconciler's
 * load of the head, so the pass and its target files cost one load.
 */
export function monitoringFilesFollower(options: { readonly dir: string; readonly load: (head: string) => Promise<LoadResult>; readonly logger: Logger }): (head: string | undefined) => Promise<void> {
  let written: string | undefined;
  let refused: string | undefined;
  return async (head) => {
    if (head === undefined || head === written || head === refused) return;
    try {
      const loaded = await options.load(head);
      if (!loaded.ok) {
        refused = head;
        return;
      }
      const change = await writeMonitoringFiles(options.dir, monitoringTargets(loaded.repo));
      written = head;
      if (change.written.length > 0 || change.removed.length > 0) options.logger.info({ commit: head, dir: options.dir, ...change }, 'file_sd target files updated');
    } catch (error) {
      options.logger.warn({ code: 'E_MONITORING_WRITE', commit: head, dir: options.dir, err: error instanceof Error ? error.message : String(error) }, 'writing the file_sd target files failed');
    }
  };
}
