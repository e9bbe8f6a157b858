import { hintOf, isErrorCode } from '../errors/index.js';
/**
 * The message of a revert commit: git's own header, so `git log`, GitHub and every tool that recognises a
 * revert recognise ours, then the evidence of the failed rollout as git trailers.
 */

/** Why tend reverted a commit, written into the revert as trailers. */
export interface RevertEvidence {
  /** `Tend-Service` */
  readonly service: string;
  /** `Tend-Failed-Hosts: web-1, web-2` */
  readonly failedHosts: readonly string[];
  /** `Tend-Error-Code: E_CANARY_FAILED` */
  readonly errorCode: string;
  /** `Tend-Probe: http :8080/health -> 500 after 12 s`; the caller leaves secrets out. */
  readonly probe: string | undefined;
  /** `Tend-Rollout-Id`: marks the revert as tend's own, so tend never reverts it in turn. */
  readonly rolloutId: string;
}

/** A person's reason for a revert made with `tend revert`: a paragraph, no trailers, not tend's own. */
export interface RevertReason {
  readonly reason: string;
}

/** The commit being reverted, as read from git. */
export interface RevertedCommit {
  readonly sha: string;
  /** The commit message's first line; anything after a newline is ignored, as git ignores it. */
  readonly subject: string;
  readonly parents: readonly string[];
}

const TRAILER = {
  service: 'Tend-Service',
  failedHosts: 'Tend-Failed-Hosts',
  errorCode: 'Tend-Error-Code',
  probe: 'Tend-Probe',
  rolloutId: 'Tend-Rollout-Id',
} as const;

/** A probe line longer than this is cut: a trailer is a summary, the journal keeps the rest. */
const MAX_VALUE_LENGTH = 200;

/**
 * Exactly what git 2.39's `git revert --no-edit` writes (a merge reverted against its first parent, as
 * `-m 1` does), then, given evidence or a reason, a blank line and that paragraph.
 */
export function revertMessage(bad: RevertedCommit, why?: RevertEvidence | RevertReason): string {
  // git's sequencer takes the subject up to the first newline, not the joined paragraph `%s` shows.
  const subject = bad.subject.split('\n', 1)[0] ?? '';
  const firstParent = bad.parents[0];
  const reverts =
    bad.parents.length > 1 && firstParent !== undefined
      ? `This reverts commit ${bad.sha}, reversing\nchanges made to ${firstParent}.`
      : `This reverts commit ${bad.sha}.`;
  // git 2.39 nests a revert of a revert (`Revert "Revert "x""`); `Reapply "x"` only came with git 2.43.
  const header = `Revert "${subject}"\n\n${reverts}\n`;
  if (why === undefined) return header;
  if ('reason' in why) return `${header}\n${oneLine(why.reason)}\n`;
  return `${header}\n${evidenceSentence(why)}\n\n${evidenceTrailers(why).join('\n')}\n`;
}

function evidenceSentence(evidence: RevertEvidence): string {
  const hosts = evidence.failedHosts.map(oneLine).filter((host) => host !== '');
  const where = hosts.length === 0 ? '' : ` on ${hosts.join(', ')}`;
  const hint = isErrorCode(evidence.errorCode) ? ` ${oneLine(hintOf(evidence.errorCode))}` : '';
  return `tend reverted this commit because the rollout of ${oneLine(evidence.service)} failed${where} (${oneLine(evidence.errorCode)}).${hint}`;
}

function evidenceTrailers(evidence: RevertEvidence): string[] {
  const hosts = evidence.failedHosts.map(trailerValue).filter((host) => host !== '');
  const probe = evidence.probe === undefined ? '' : trailerValue(evidence.probe);
  return [
    `${TRAILER.service}: ${trailerValue(evidence.service)}`,
    ...(hosts.length === 0 ? [] : [`${TRAILER.failedHosts}: ${hosts.join(', ')}`]),
    `${TRAILER.errorCode}: ${trailerValue(evidence.errorCode)}`,
    ...(probe === '' ? [] : [`${TRAILER.probe}: ${probe}`]),
    `${TRAILER.rolloutId}: ${trailerValue(evidence.rolloutId)}`,
  ];
}

/**
 * One line of printable text: control characters (newlines included, which would end the trailer or start
 * a forged one) become spaces, and runs of whitespace collapse.
 */
function oneLine(text: string): string {
  return text
    .replace(/[\p{Cc}\u2028\u2029]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A trailer value: one line, credentials in a URL masked (history is forever), and bounded in length. */
function trailerValue(text: string): string {
  // A comma separates hosts in Tend-Failed-Hosts; no host name has one, so nothing is lost.
  const line = oneLine(text).replace(/(\/\/)[^/@\s]+@/g, '$1***@');
  return line.length <= MAX_VALUE_LENGTH ? line : `${line.slice(0, MAX_VALUE_LENGTH - 1)}…`;
}

/**
 * The evidence in a tend revert's trailers, or undefined when the message does not carry tend's required
 * trailers. Read as git reads trailers: `Key: value` lines of the last paragraph, keys case-insensitive.
 */
export function parseRevertTrailers(message: string): RevertEvidence | undefined {
  const trailers = lastParagraphTrailers(message);
  const service = trailers.get(TRAILER.service.toLowerCase());
  const errorCode = trailers.get(TRAILER.errorCode.toLowerCase());
  const rolloutId = trailers.get(TRAILER.rolloutId.toLowerCase());
  if (service === undefined || errorCode === undefined || rolloutId === undefined) return undefined;
  const hosts = trailers.get(TRAILER.failedHosts.toLowerCase());
  return {
    service,
    failedHosts: hosts === undefined ? [] : hosts.split(',').map((host) => host.trim()).filter((host) => host !== ''),
    errorCode,
    probe: trailers.get(TRAILER.probe.toLowerCase()),
    rolloutId,
  };
}

/** Whether tend wrote this commit: it carries a `Tend-Rollout-Id` trailer. tend never auto-reverts those. */
export function isTendRevert(message: string): boolean {
  return lastParagraphTrailers(message).has(TRAILER.rolloutId.toLowerCase());
}

/**
 * The commit a revert undoes, from git's `This reverts commit <sha>` line (tend's, or a person's
 * `git revert`), so that a bad commit already reverted is recognised from history alone, after a crash.
 */
export function revertedCommitOf(message: string): string | undefined {
  return /^This reverts commit ([0-9a-f]{64}|[0-9a-f]{40})(?:\.|, reversing)$/m.exec(message)?.[1];
}

/** Last value wins for a repeated key, as a later trailer amends an earlier one. */
function lastParagraphTrailers(message: string): Map<string, string> {
  const paragraphs = message
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph !== '');
  const last = paragraphs.at(-1);
  const trailers = new Map<string, string>();
  // The header paragraph alone is a subject, never trailers, even when it reads `Key: value`.
  if (last === undefined || paragraphs.length < 2) return trailers;
  const lines = last.split('\n');
  const parsed = lines.map((line) => /^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$/.exec(line));
  if (parsed.some((match) => match === null)) return trailers;
  for (const match of parsed) {
    if (match?.[1] !== undefined && match[2] !== undefined) trailers.set(match[1].toLowerCase(), match[2].trim());
  }
  return trailers;
}
