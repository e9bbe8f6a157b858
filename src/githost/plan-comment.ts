import { formatIssue } from '../errors/index.js';
import type { RefPlan } from '../preview/index.js';
import { planStatus } from './commit-status.js';

/** How tend finds its own comment on a pull request to update it in place: never shown, never changed. */
export const PLAN_COMMENT_MARKER = '<!-- tend:plan -->';

/** GitHub refuses a comment body over 65,536 characters; the plan of a large fleet is cut well before. */
const BODY_LIMIT = 60_000;

/**
 * The one comment tend keeps on a pull request: the plan of its head per service and host (the text of
 * `tend plan`), or its validation issues at file:line:col. Built only from what `tend plan` prints, which
 * holds hashes and paths, never a secret's value.
 */
export function planCommentBody(plan: RefPlan, statusUrl?: string): string {
  const status = planStatus(plan);
  const title = status.state === 'success' ? 'tend plan' : status.state === 'failure' ? 'tend plan: invalid' : 'tend plan: could not plan';
  const detail =
    plan.verdict === 'invalid'
      ? plan.issues.map((issue) => `${formatIssue(issue)}${issue.hint === undefined ? '' : `\n  hint: ${issue.hint}`}`).join('\n')
      : `${plan.text}${plan.error === undefined ? '' : `\nerror: ${plan.error.message} (${plan.error.code})\n`}`;
  const head = [
    PLAN_COMMENT_MARKER,
    `### ${title}`,
    '',
    `${status.description}`,
    '',
    `Commit \`${plan.sha}\`${statusUrl === undefined ? '' : ` · [tend status](${statusUrl})`}`,
    '',
  ].join('\n');
  const fenced = (text: string) => `~~~text\n${text.replaceAll('~~~', '~ ~ ~').trimEnd()}\n~~~\n`;
  const body = `${head}${fenced(detail)}`;
  if (body.length <= BODY_LIMIT) return body;
  const room = BODY_LIMIT - head.length - 200;
  return `${head}${fenced(`${detail.slice(0, room)}\n… cut: the whole plan is ${detail.length} characters; \`tend plan --daemon … --ref ${plan.sha}\` prints it.`)}`;
}
