/**
 * `tend plan --diff`: what a host has against what tend would write, for people. Pure. The new side is
 * always the masked render (`<secret:name>` where a secret goes); the host's side of an env file holds
 * resolved secrets, so it is masked by the same keys before it is compared or shown.
 *
 * Our own line LCS rather than the `diff` package: the files are a unit, an env file and timers of a few
 * dozen lines, the output needed is one format, and a dependency for ~80 lines is not worth its upkeep.
 */

/** Lines of context around each change, as `diff -u`. */
const CONTEXT_LINES = 3;
/** Beyond this many line pairs the table would be too big: the whole file is shown as replaced instead. */
const MAX_LCS_CELLS = 4_000_000;

/** What the host's side of a secret-bearing line is shown as when its value differs from the new one. */
export const OLD_SECRET_TEXT = '<secret: the host has another value>';
/** What a host-side env line is shown as when the new file no longer has its key (it may have held a secret). */
export const REMOVED_VALUE_TEXT = '<not shown: no longer in the spec>';

function keyOf(line: string): string | undefined {
  if (line.startsWith('#') || !line.includes('=')) return undefined;
  return line.slice(0, line.indexOf('='));
}

/**
 * The host's env file as it may be shown. `resolved` and `masked` are the same render with secrets
 * resolved and masked: a line where they differ carries a secret. A host line with such a key shows the
 * masked line when its value is the resolved one (no change), else OLD_SECRET_TEXT; a line whose key the
 * new file lacks shows REMOVED_VALUE_TEXT (it may have been a secret); only keys the new file holds in the
 * clear are shown as they are. No value of a secret-bearing key ever leaves this function.
 */
export function maskHostEnvFile(hostText: string, resolved: string, masked: string): string {
  const resolvedLines = resolved.split('\n');
  const maskedLines = masked.split('\n');
  const secretLines = new Map<string, { readonly resolved: string; readonly masked: string }>();
  const plainKeys = new Set<string>();
  resolvedLines.forEach((line, index) => {
    const key = keyOf(line);
    if (key === undefined) return;
    const shown = maskedLines[index] ?? '';
    if (shown === line) plainKeys.add(key);
    else secretLines.set(key, { resolved: line, masked: shown });
  });
  return hostText
    .split('\n')
    .map((line) => {
      const key = keyOf(line);
      if (key === undefined) return line;
      const secret = secretLines.get(key);
      if (secret !== undefined) return line === secret.resolved ? secret.masked : `${key}=${OLD_SECRET_TEXT}`;
      return plainKeys.has(key) ? line : `${key}=${REMOVED_VALUE_TEXT}`;
    })
    .join('\n');
}

type Edit = { readonly kind: ' ' | '-' | '+'; readonly line: string; readonly oldNo: number; readonly newNo: number };

/** The edit script of a line LCS: every old line kept or removed, every new line kept or added. */
function editScript(oldLines: readonly string[], newLines: readonly string[]): Edit[] {
  const n = oldLines.length;
  const m = newLines.length;
  if (n * m > MAX_LCS_CELLS) {
    return [
      ...oldLines.map((line, index): Edit => ({ kind: '-', line, oldNo: index, newNo: 0 })),
      ...newLines.map((line, index): Edit => ({ kind: '+', line, oldNo: n, newNo: index })),
    ];
  }
  // lcs[i][j]: the LCS length of oldLines[i..] and newLines[j..], one flat table.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = oldLines[i] === newLines[j] ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && oldLines[i] === newLines[j]) {
      edits.push({ kind: ' ', line: oldLines[i] ?? '', oldNo: i, newNo: j });
      i += 1;
      j += 1;
    } else if (i < n && (j === m || (lcs[(i + 1) * width + j] ?? 0) >= (lcs[i * width + j + 1] ?? 0))) {
      // On a tie the removal comes first, so a changed line reads `-old` then `+new`, as diff -u prints it.
      edits.push({ kind: '-', line: oldLines[i] ?? '', oldNo: i, newNo: j });
      i += 1;
    } else {
      edits.push({ kind: '+', line: newLines[j] ?? '', oldNo: i, newNo: j });
      j += 1;
    }
  }
  return edits;
}

/** A text's lines as `diff` counts them: a final newline ends the last line rather than starting another. */
function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function range(start: number, count: number): string {
  // diff -u names an empty range by the line before it.
  return count === 1 ? `${start + 1}` : `${count === 0 ? start : start + 1},${count}`;
}

/**
 * `diff -u` of two texts, with the given labels; the empty string when they are equal. `oldLabel` of
 * undefined means the file does not exist yet (`--- /dev/null`).
 */
export function unifiedDiff(oldText: string, newText: string, labels: { readonly old: string | undefined; readonly new: string }): string {
  const edits = editScript(linesOf(oldText), linesOf(newText));
  const changed = edits.flatMap((edit, index) => (edit.kind === ' ' ? [] : [index]));
  if (changed.length === 0) return '';
  const out = [`--- ${labels.old ?? '/dev/null'}`, `+++ ${labels.new}`];
  let index = 0;
  while (index < changed.length) {
    const first = changed[index] ?? 0;
    let last = first;
    // Changes closer than twice the context share a hunk, as diff -u does.
    while (index + 1 < changed.length && (changed[index + 1] ?? 0) - last <= 2 * CONTEXT_LINES) {
      index += 1;
      last = changed[index] ?? last;
    }
    index += 1;
    const from = Math.max(0, first - CONTEXT_LINES);
    const to = Math.min(edits.length - 1, last + CONTEXT_LINES);
    const hunk = edits.slice(from, to + 1);
    const start = hunk[0];
    if (start === undefined) continue;
    const oldCount = hunk.filter((edit) => edit.kind !== '+').length;
    const newCount = hunk.filter((edit) => edit.kind !== '-').length;
    out.push(`@@ -${range(start.oldNo, oldCount)} +${range(start.newNo, newCount)} @@`);
    for (const edit of hunk) out.push(`${edit.kind}${edit.line}`);
  }
  return `${out.join('\n')}\n`;
}
