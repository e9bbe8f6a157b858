/** Enough of a sha256 for a person to tell two releases apart in a plan; never used to compare. */
export function shortHash(sha256: string | undefined): string {
  return sha256 === undefined ? 'none' : `${sha256.slice(0, 8)}…`;
}
