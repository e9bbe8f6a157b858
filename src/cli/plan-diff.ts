import { asTendError } from '../errors/index.js';
import { readHostFile, type RemoteRunner } from '../hosts/index.js';
import type { Plan } from '../plan/model.js';
import type { PreparedPass } from '../pass/index.js';
import { maskedSecrets, maskHostEnvFile, renderHost, unifiedDiff, type RenderedService } from '../render/index.js';
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
 * `tend plan --diff`: for every file a planned step writes, the host's current file is read (one remote
 * command each, through the pool and its bounds) and diffed against the masked render. The host's env
 * file is masked by the keys that hold secrets in the new render: no secret value is ever printed.
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
  for (const service of plan.services) {
    for (const step of service.batches.flat()) {
      const host = hostsByName.get(step.host);
      const resolved = pass.rendered.get(step.host)?.find((one) => one.service === step.service);
      const shown = host === undefined ? undefined : masked(host, step.service);
      if (host === undefined || resolved === undefined || shown === undefined) continue;
      for (const write of step.writes) {
        const newText = shown.files.find((file) => file.path === write.path)?.content ?? '';
        const resolvedText = resolved.files.find((file) => file.path === write.path)?.content ?? '';
        work.push(diffOne(runner, host, step.service, write.path, write.kind === 'env', resolvedText, newText));
      }
    }
  }
  return Promise.all(work);
}

async function diffOne(runner: RemoteRunner, host: HostSpec, service: string, path: string, isEnv: boolean, resolvedText: string, newText: string): Promise<FileDiff> {
  const at = { service, host: host.name, path };
  try {
    const current = await readHostFile(runner, host, path, MAX_SHOWN_BYTES);
    if (current.kind === 'too-large') return { ...at, diff: '', note: `the host's file is larger than ${current.maxBytes} bytes: not shown` };
    const oldText = current.kind === 'missing' ? '' : isEnv ? maskHostEnvFile(current.text, resolvedText, newText) : current.text;
    const labels = { old: current.kind === 'missing' ? undefined : `${host.name}:${path}`, new: `repo:${path}` };
    const diff = unifiedDiff(oldText, newText, labels);
    return diff === '' ? { ...at, diff, note: 'the content is the same; the file is rewritten for its mode or owner' } : { ...at, diff };
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
