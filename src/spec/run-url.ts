import type { ArchiveFormat } from './model.js';
import type { SpecIssueCode } from './issue-codes.js';

/**
 * The rules of `run.url` the schema cannot say: a URL tend (or a host) can download, with no credentials
 * in it (it is committed, shown in plans and logs), over https unless the store is on loopback or the spec
 * allows http explicitly; and what the download is (a tarball by its name, or the program itself).
 */

export type UrlCheck =
  | { readonly ok: true; readonly downloadName: string; readonly archive: ArchiveFormat | undefined }
  | { readonly ok: false; readonly code: SpecIssueCode; readonly message: string };

/** Longest suffix first, so `.tar.gz` is not taken for `.gz`. */
const ARCHIVE_SUFFIXES: readonly (readonly [string, ArchiveFormat])[] = [
  ['.tar.gz', 'tar.gz'],
  ['.tar.xz', 'tar.xz'],
  ['.tar.bz2', 'tar.bz2'],
  ['.tar.zst', 'tar.zst'],
  ['.tgz', 'tar.gz'],
  ['.txz', 'tar.xz'],
  ['.tbz2', 'tar.bz2'],
  ['.tar', 'tar'],
];

export function archiveFormatOf(fileName: string): ArchiveFormat | undefined {
  const lower = fileName.toLowerCase();
  return ARCHIVE_SUFFIXES.find(([suffix]) => lower.endsWith(suffix) && lower.length > suffix.length)?.[1];
}

/** 127.0.0.0/8, ::1 and localhost: a request that never leaves the machine cannot be read on the way. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function checkRunUrl(text: string, allowHttp: boolean): UrlCheck {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, code: 'E_RUN_URL', message: 'is not a valid URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, code: 'E_RUN_URL', message: `uses ${url.protocol}; tend downloads over https (or http)` };
  }
  // The URL is committed and shown in plans: refused without repeating what was in it.
  if (url.username !== '' || url.password !== '') {
    return { ok: false, code: 'E_RUN_URL', message: 'has credentials in it (`user:password@`); refused' };
  }
  if (url.hash !== '') return { ok: false, code: 'E_RUN_URL', message: 'has a #fragment, which is never sent to the server' };
  if (url.protocol === 'http:' && !allowHttp && !isLoopbackHost(url.hostname)) {
    return { ok: false, code: 'E_RUN_URL_INSECURE', message: `is plain http to ${url.hostname}, which is not a loopback address` };
  }
  const downloadName = decodeURIComponent(url.pathname.split('/').at(-1) ?? '');
  if (downloadName === '' || downloadName === '.' || downloadName === '..' || !/^[A-Za-z0-9._+@-]+$/.test(downloadName)) {
    return { ok: false, code: 'E_RUN_URL', message: 'does not end in a file name of letters, digits and . _ + @ -' };
  }
  return { ok: true, downloadName, archive: archiveFormatOf(downloadName) };
}
