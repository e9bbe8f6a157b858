/**
 * A commit as tend shows it to people: the first 12 hex digits, enough to stay unique in a deploy repo's
 * history (git's own abbreviation grows past 7 in large ones). A leaf of its own, so every layer that
 * names a commit can show it without loading the git client.
 */
export function shortCommit(sha: string): string {
  return sha.slice(0, 12);
}
