import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Who signed a delivery, by the header it signed with; `gitea` covers Gogs, `bitbucket` Server, Data Center and Cloud. */
export type WebhookProvider = 'github' | 'gitea' | 'gitlab' | 'bitbucket';

export type WebhookVerdict =
  | { readonly ok: true; readonly provider: WebhookProvider }
  | { readonly ok: false; readonly reason: string };

export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Checks that a webhook delivery comes from someone who knows the secret:
 * - Gitea (and Gogs): `X-Gitea-Signature` / `X-Gogs-Signature`, hex HMAC-SHA256 of the body;
 * - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`;
 * - Bitbucket (Server, Data Center, Cloud): `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`;
 * - GitLab: `X-Gitlab-Token: <secret>`, the secret itself.
 * Gitea's headers are looked at first because Gitea also sends GitHub's, and GitHub's SHA-256 header before
 * `X-Hub-Signature`, which GitHub also sends, with a SHA-1 that tend does not accept. Comparisons are
 * constant-time; reasons never contain the secret or the expected signature, since they are logged and answered.
 */
export function verifyWebhook(headers: WebhookHeaders, body: Uint8Array, secret: string): WebhookVerdict {
  if (secret === '') return refuse('no webhook secret is configured; an empty secret would accept anyone');
  const gitea = header(headers, 'x-gitea-signature') ?? header(headers, 'x-gogs-signature');
  if (gitea !== undefined) return checkHmac('gitea', 'X-Gitea-Signature', gitea, body, secret, '');
  const github = header(headers, 'x-hub-signature-256');
  if (github !== undefined) return checkHmac('github', 'X-Hub-Signature-256', github, body, secret, 'sha256=');
  const bitbucket = header(headers, 'x-hub-signature');
  if (bitbucket !== undefined) return checkHmac('bitbucket', 'X-Hub-Signature', bitbucket, body, secret, 'sha256=');
  const gitlab = header(headers, 'x-gitlab-token');
  if (gitlab !== undefined) {
    if (!gitlab.ok) return refuse(gitlab.reason);
    // Compared as digests: equal lengths by construction, so not even the secret's length leaks.
    const same = timingSafeEqual(sha256(gitlab.value), sha256(secret));
    return same ? { ok: true, provider: 'gitlab' } : refuse('X-Gitlab-Token does not match the webhook secret');
  }
  return refuse('no signature header: expected X-Hub-Signature-256 (GitHub), X-Gitea-Signature (Gitea, Gogs), X-Hub-Signature (Bitbucket) or X-Gitlab-Token (GitLab)');
}

export type HeaderValue = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

/** The one value of a header, by its lower-case name; a header sent twice is a problem, never a choice. */
export function header(headers: WebhookHeaders, name: string): HeaderValue | undefined {
  const values = Object.entries(headers)
    .filter(([key]) => key.toLowerCase() === name)
    .flatMap(([, value]) => (value === undefined ? [] : typeof value === 'string' ? [value] : [...value]));
  if (values.length === 0) return undefined;
  const [value] = values;
  if (values.length > 1 || value === undefined) return { ok: false, reason: `header ${name} appears more than once` };
  return { ok: true, value: value.trim() };
}

function checkHmac(provider: Exclude<WebhookProvider, 'gitlab'>, name: string, value: HeaderValue, body: Uint8Array, secret: string, prefix: string): WebhookVerdict {
  if (!value.ok) return refuse(value.reason);
  if (!value.value.startsWith(prefix)) return refuse(`${name} does not start with ${prefix}`);
  const hex = value.value.slice(prefix.length);
  if (hex.length !== 64) return refuse(`${name} has ${hex.length} hex digits, expected 64 (HMAC-SHA256)`);
  if (!/^[0-9a-fA-F]+$/.test(hex)) return refuse(`${name} is not hexadecimal`);
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(hex, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse(`${name} does not match the body signed with the webhook secret`);
  }
  return { ok: true, provider };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function refuse(reason: string): WebhookVerdict {
  return { ok: false, reason };
}
