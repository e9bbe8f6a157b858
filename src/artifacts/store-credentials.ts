import { TendError } from '../errors/index.js';

/**
 * A private store's credentials, read from the secrets directory (run.credentials names the secret). They
 * become one `Authorization:` header, built here only: sent on a command's stdin to a host (fetch: host) or
 * in tend's own request (fetch: tend), and never part of a URL, an argv, a message or a log.
 */
export type StoreCredentials =
  /** The secret holds a token, sent as `Authorization: Bearer <token>`. */
  | { readonly scheme: 'bearer'; readonly secret: string; readonly value: string }
  /** The secret holds `user:password`, sent as HTTP basic auth. */
  | { readonly scheme: 'basic'; readonly secret: string; readonly value: string };

/** RFC 6750's b64token: what a bearer token may hold, so it cannot break the header line it goes into. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The header line; E_SECRET_INVALID (naming the secret, never its value) when the secret cannot be one. */
export function authorizationHeader(credentials: StoreCredentials): string {
  if (credentials.scheme === 'bearer') {
    if (!TOKEN68.test(credentials.value)) {
      throw new TendError('E_SECRET_INVALID', 'invalid', `secret ${credentials.secret} is not a bearer token (letters, digits and - . _ ~ + /, then any =)`, {
        hint: 'Store the token alone in the secret file, without `Bearer ` and without spaces.',
      });
    }
    return `Authorization: Bearer ${credentials.value}`;
  }
  if (!credentials.value.includes(':') || CONTROL.test(credentials.value)) {
    throw new TendError('E_SECRET_INVALID', 'invalid', `secret ${credentials.secret} is not \`user:password\` for basic auth`, {
      hint: 'Store `user:password` in the secret file, on one line.',
    });
  }
  return `Authorization: Basic ${Buffer.from(credentials.value, 'utf8').toString('base64')}`;
}

/** The header as a [name, value] pair, for tend's own request. */
export function authorizationPair(credentials: StoreCredentials): readonly [string, string] {
  const line = authorizationHeader(credentials);
  return ['authorization', line.slice('Authorization: '.length)];
}
