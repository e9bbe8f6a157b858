import { TendError, type ErrorClass, type ErrorCode, type HostLocation } from '../errors/index.js';

/**
 * How fetching a run.url artifact can fail, whoever downloads it (the host with curl or wget, or tend), and
 * what each failure means for the rollout. The split is the one the taxonomy draws: a store that answers
 * "no such file" or serves other bytes than the commit pins says the commit is wrong (change: revert); a
 * store that cannot be reached or is overloaded says nothing about the commit (transient: retry, bounded);
 * refused credentials, a bad certificate or a missing program on the host wait for a person (conflict).
 */
export type DownloadFailure =
  /** The store answered with an HTTP status other than 2xx (after redirects). */
  | { readonly kind: 'http'; readonly status: number }
  /** No answer: connection refused or reset, name not resolved, an empty reply. */
  | { readonly kind: 'unreachable'; readonly reason: string }
  | { readonly kind: 'timeout'; readonly reason: string }
  | { readonly kind: 'tls'; readonly reason: string }
  /** The bytes arrived whole but hash to something else than run.sha256. */
  | { readonly kind: 'hash-mismatch'; readonly got: string }
  | { readonly kind: 'unpack'; readonly reason: string }
  /** The tarball unpacked but holds no regular file at run.file. */
  | { readonly kind: 'file-missing'; readonly file: string }
  /** The host lacks curl or wget, a private download needs curl or GNU wget, or the decompressor is missing. */
  | { readonly kind: 'missing-tool'; readonly reason: string };

export type ArtifactFailureCode = Extract<
  ErrorCode,
  | 'E_ARTIFACT_NOT_FOUND'
  | 'E_ARTIFACT_HASH_MISMATCH'
  | 'E_ARTIFACT_REQUEST_REFUSED'
  | 'E_ARTIFACT_UNPACK'
  | 'E_ARTIFACT_STORE_UNAVAILABLE'
  | 'E_ARTIFACT_STORE_AUTH'
  | 'E_ARTIFACT_STORE_TLS'
  | 'E_ARTIFACT_HOST_TOOL'
>;

export interface DownloadClassification {
  readonly code: ArtifactFailureCode;
  readonly errorClass: ErrorClass;
}

/** 408 Request Timeout, 425 Too Early and 429 Too Many Requests are the store's state, not the URL's fault. */
const TRANSIENT_4XX: ReadonlySet<number> = new Set([408, 425, 429]);
const AUTH_4XX: ReadonlySet<number> = new Set([401, 403, 407]);

export function classifyDownloadFailure(failure: DownloadFailure): DownloadClassification {
  switch (failure.kind) {
    case 'http': {
      const { status } = failure;
      if (status === 404 || status === 410) return { code: 'E_ARTIFACT_NOT_FOUND', errorClass: 'change' };
      if (AUTH_4XX.has(status)) return { code: 'E_ARTIFACT_STORE_AUTH', errorClass: 'conflict' };
      if (TRANSIENT_4XX.has(status) || status >= 500) return { code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' };
      if (status >= 400) return { code: 'E_ARTIFACT_REQUEST_REFUSED', errorClass: 'change' };
      // A 1xx or 3xx that was not followed: a store (or a proxy) that does not behave like one; it may recover.
      return { code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' };
    }
    case 'unreachable':
    case 'timeout':
      return { code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' };
    case 'tls':
      return { code: 'E_ARTIFACT_STORE_TLS', errorClass: 'conflict' };
    case 'hash-mismatch':
      return { code: 'E_ARTIFACT_HASH_MISMATCH', errorClass: 'change' };
    case 'unpack':
    case 'file-missing':
      return { code: 'E_ARTIFACT_UNPACK', errorClass: 'change' };
    case 'missing-tool':
      return { code: 'E_ARTIFACT_HOST_TOOL', errorClass: 'conflict' };
  }
}

function describe(failure: DownloadFailure, want: string): string {
  switch (failure.kind) {
    case 'http':
      return `the store answered HTTP ${failure.status}`;
    case 'unreachable':
      return `the store could not be reached (${failure.reason})`;
    case 'timeout':
      return `the download timed out (${failure.reason})`;
    case 'tls':
      return `the store's TLS certificate was refused (${failure.reason})`;
    case 'hash-mismatch':
      return `the download's sha256 is ${failure.got}, not ${want} as run.sha256 says`;
    case 'unpack':
      return `the tarball could not be unpacked (${failure.reason})`;
    case 'file-missing':
      return `the tarball holds no regular file ${failure.file} (run.file)`;
    case 'missing-tool':
      return failure.reason;
  }
}

export interface DownloadContext {
  readonly service: string;
  /** As committed: never carries credentials (validation refuses `user:password@`). */
  readonly url: string;
  readonly sha256: string;
  /** The host that downloaded, or `tend` for fetch: tend. */
  readonly where: HostLocation;
}

/** The error a failed download surfaces as: its code and class from the table above, its place, nothing secret. */
export function downloadFailureError(failure: DownloadFailure, context: DownloadContext): TendError {
  const { code, errorClass } = classifyDownloadFailure(failure);
  return new TendError(code, errorClass, `${context.where.host}: ${context.service} from ${context.url}: ${describe(failure, context.sha256)}; nothing running was touched`, {
    where: context.where,
  });
}
