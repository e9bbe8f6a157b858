import { asTendError } from '../errors/index.js';
import { readHostFile, type RemoteRunner } from '../hosts/index.js';
import type { Plan } from '../plan/model.js';
import type { PreparedPass } from '../pass/index.js';
import { ENV_DIR, maskedSecrets, maskHostEnvFile, renderHost, unifiedDiff, type RenderedService } from '../render/index.js';
import type { HostSpec } from '../spec/model.js';

/** A host file larger than this is not shown: the files tend writes are units and env files. */
const MAX_SHOWN_BYTES = 1024 * 1024;

/** One file tend would write, against what the host has. */
export interface FileDiff {
  readonly service: string;
  readonly host: string;
  readonly path: string;
  /** `diff -u` text, secrets masked on both sides; empty when no diff could be shown (see `note`). */
  readonly diff: string;
  /** Why there is no diff: the host's file could not be read, or is too large to show. */
  readonly note?: string;
}

/**
 * `tend plan --diff`: for every file a planned step writes or deletes, the host's current file is read (one
 * remote command each, through the pool and its bounds) and diffed against the masked render, or against
 * nothing for a file the step deletes. The host's env file is masked by the keys that hold secrets in the
 * new render, and a deleted env file shows no value at all: no secret value is ever printed.
 */
export async function planDiffs(plan: Plan, pass: PreparedPass, runner: RemoteRunner): Promise<FileDiff[]> {
  const hostsByName = new Map(pass.repo.inventory.hosts.map((host) => [host.name, host]));
  const maskedByHost = new Map<string, RenderedService<'masked'>[]>();
  const masked = (host: HostSpec, service: string): RenderedService<'masked'> | undefined => {
    let rendered = maskedByHost.get(host.name);
    if (rendered === undefined) {
      rendered = renderHost(pass.repo, host, maskedSecrets);
      maskedByHost.set(host.name, rendered);
    }
    return rendered.find((one) => one.service === service);
  };
  const work: Promise<FileDiff>[] = [];
  for (const step of [...plan.services.flatMap((service) => service.batches.flat()), ...plan.prunes]) {
    const host = hostsByName.get(step.host);
    if (host === undefined) continue;
    // Secrets live only in env files; with no new render to tell them, a deleted one shows keys alone.
    for (const path of step.deletes) work.push(diffOne(runner, host, step.service, path, (text) => (isEnvFile(path) ? maskHostEnvFile(text, '', '') : text), undefined));
    // A prune step writes nothing and has no render: its host is not rendered again for it.
    const resolved = pass.rendered.get(step.host)?.find((one) => one.service === step.service);
    if (resolved === undefined) continue;
    const shown = masked(host, step.service);
    if (shown === undefined) continue;
    for (const write of step.writes) {
      const newText = shown.files.find((file) => file.path === write.path)?.content ?? '';
      const resolvedText = resolved.files.find((file) => file.path === write.path)?.content ?? '';
      const showHost = (text: string): string => (write.kind === 'env' ? maskHostEnvFile(text, resolvedText, newText) : text);
      work.push(diffOne(runner, host, step.service, write.path, showHost, newText));
    }
  }
  return Promise.all(work);
}

function isEnvFile(path: string): boolean {
  return path.startsWith(`${ENV_DIR}/`);
}

/** One host file against `newText`, or against nothing when the step deletes it (`newText` undefined). */
async function diffOne(
  runner: RemoteRunner,
  host: HostSpec,
  service: string,
  path: string,
  showHost: (text: string) => string,
  newText: string | undefined,
): Promise<FileDiff> {
  const at = { service, host: host.name, path };
  try {
    const current = await readHostFile(runner, host, path, MAX_SHOWN_BYTES);
    if (current.kind === 'too-large') return { ...at, diff: '', note: `the host's file is larger than ${current.maxBytes} bytes: not shown` };
    if (newText === undefined && current.kind === 'missing') return { ...at, diff: '', note: 'the file to delete is already gone from the host' };
    const oldText = current.kind === 'missing' ? '' : showHost(current.text);
    const labels = { old: current.kind === 'missing' ? undefined : `${host.name}:${path}`, new: newText === undefined ? '/dev/null' : `repo:${path}` };
    const diff = unifiedDiff(oldText, newText ?? '', labels);
    if (diff !== '') return { ...at, diff };
    return { ...at, diff, note: newText === undefined ? 'the file is empty; it is deleted' : 'the content is the same; the file is rewritten for its mode or owner' };
  } catch (thrown) {
    const error = asTendError(thrown);
    return { ...at, diff: '', note: `could not read the host's file: ${error.message} (${error.code})` };
  }
}

/** The diffs for people, after the plan. */
export function formatDiffs(diffs: readonly FileDiff[]): string {
  if (diffs.length === 0) return '';
  const parts = diffs.map((one) => (one.note === undefined ? one.diff : `# ${one.host}:${one.path}: ${one.note}\n`));
  return `\n${parts.join('')}`;
}
