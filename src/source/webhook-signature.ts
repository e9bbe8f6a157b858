import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type WebhookProvider = 'github' | 'gitea' | 'gitlab';

export type WebhookVerdict =
  | { readonly ok: true; readonly provider: WebhookProvider }
  | { readonly ok: false; readonly reason: string };

export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Checks that a webhook delivery comes from someone who knows the secret:
 * - Gitea (and Gogs): `X-Gitea-Signature` / `X-Gogs-Signature`, hex HMAC-SHA256 of the body;
 * - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`;
 * - GitLab: `X-Gitlab-Token: <secret>`, the secret itself.
 * Gitea's headers are looked at first because Gitea also sends GitHub's. Comparisons are constant-time;
 * reasons never contain the secret or the expected signature, since they are logged and answered.
 */
export function verifyWebhook(headers: WebhookHeaders, body: Uint8Array, secret: string): WebhookVerdict {
  if (secret === '') return refuse('no webhook secret is configured; an empty secret would accept anyone');
  const gitea = header(headers, 'x-gitea-signature') ?? header(headers, 'x-gogs-signature');
  if (gitea !== undefined) return checkHmac('gitea', gitea, body, secret, '');
  const github = header(headers, 'x-hub-signature-256');
  if (github !== undefined) return checkHmac('github', github, body, secret, 'sha256=');
  const gitlab = header(headers, 'x-gitlab-token');
  if (gitlab !== undefined) {
    if (!gitlab.ok) return refuse(gitlab.reason);
    // Compared as digests: equal lengths by construction, so not even the secret's length leaks.
    const same = timingSafeEqual(sha256(gitlab.value), sha256(secret));
    return same ? { ok: true, provider: 'gitlab' } : refuse('X-Gitlab-Token does not match the webhook secret');
  }
  return refuse('no signature header: expected X-Hub-Signature-256 (GitHub), X-Gitea-Signature (Gitea) or X-Gitlab-Token (GitLab)');
}

type HeaderValue = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

function header(headers: WebhookHeaders, name: string): HeaderValue | undefined {
  const values = Object.entries(headers)
    .filter(([key]) => key.toLowerCase() === name)
    .flatMap(([, value]) => (value === undefined ? [] : typeof value === 'string' ? [value] : [...value]));
  if (values.length === 0) return undefined;
  const [value] = values;
  if (values.length > 1 || value === undefined) return { ok: false, reason: `header ${name} appears more than once` };
  return { ok: true, value: value.trim() };
}

function checkHmac(provider: 'github' | 'gitea', value: HeaderValue, body: Uint8Array, secret: string, prefix: string): WebhookVerdict {
  if (!value.ok) return refuse(value.reason);
  const name = provider === 'github' ? 'X-Hub-Signature-256' : 'X-Gitea-Signature';
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
