/**
 * Small random git histories for comparing tend's revert with `git revert`: adds, edits (often of the same
 * few lines, so later commits collide), deletes, renames with and without an edit, a hand-made undo of an
 * earlier commit (so some reverts are empty), empty commits, and side branches merged back. Built as one
 * `git fast-import` stream, so that a history costs one git process rather than dozens.
 */

/** mulberry32: tiny, seedable, good enough to spread cases. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type OpKind = 'add' | 'edit' | 'delete' | 'rename' | 'rename-edit' | 'undo' | 'empty';

type Tree = ReadonlyMap<string, readonly string[]>;

export interface HistoryCommit {
  /** fast-import mark, also the order of creation. */
  readonly mark: number;
  readonly branch: 'main' | 'side';
  readonly parents: readonly number[];
  readonly subject: string;
  readonly ops: readonly OpKind[];
  readonly tree: Tree;
}

export interface RandomHistory {
  readonly commits: readonly HistoryCommit[];
  /** Mark of the head of main, where the revert goes. */
  readonly head: number;
  /** Mark of the commit to revert: any commit but the first. */
  readonly target: number;
  readonly fastImport: string;
}

const DIRS = ['', 'services/api/', 'services/web/', 'lib/'];
const START_TIME = 1_772_600_000;

export function randomHistory(random: () => number): RandomHistory {
  const int = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let lineCount = 0;
  let fileCount = 0;
  const newLine = (): string => `line ${lineCount++} ${pick(['alpha', 'beta', 'gamma', 'delta'])}`;
  const newPath = (): string => `${pick(DIRS)}f${fileCount++}.txt`;
  const commits: HistoryCommit[] = [];

  const commit = (parents: readonly number[], ops: readonly OpKind[], tree: Tree, kind: '' | 's' | 'm' = ''): number => {
    const mark = commits.length + 1;
    const branch = kind === 's' ? 'side' : 'main';
    commits.push({ mark, branch, parents, subject: `c${mark}${kind} ${ops.join(' ') || 'merge'}`, ops, tree });
    return mark;
  };
  const treeOf = (mark: number): Tree => (commits[mark - 1] as HistoryCommit).tree;

  const apply = (tree: Tree, op: OpKind, ancestry: readonly number[]): Map<string, readonly string[]> => {
    const next = new Map(tree);
    const paths = [...next.keys()];
    switch (op) {
      case 'add':
        next.set(newPath(), Array.from({ length: int(4, 10) }, newLine));
        break;
      case 'edit': {
        const path = pick(paths);
        const lines = [...(next.get(path) ?? [])];
        for (let edits = int(1, 2); edits > 0; edits -= 1) {
          const at = int(0, Math.max(0, lines.length - 1));
          const how = random();
          if (how < 0.55) lines[at] = newLine();
          else if (how < 0.75) lines.splice(at, 0, newLine());
          else if (how < 0.9 && lines.length > 2) lines.splice(at, 1);
          else lines.push(newLine());
        }
        next.set(path, lines);
        break;
      }
      case 'delete':
        if (paths.length > 1) next.delete(pick(paths));
        break;
      case 'rename':
      case 'rename-edit': {
        // Similar enough for git's rename detection (one line of at least five changed).
        const candidates = op === 'rename' ? paths : paths.filter((path) => (next.get(path)?.length ?? 0) >= 5);
        if (candidates.length === 0) break;
        const from = pick(candidates);
        const lines = [...(next.get(from) ?? [])];
        if (op === 'rename-edit') lines[int(0, lines.length - 1)] = newLine();
        next.delete(from);
        next.set(newPath(), lines);
        break;
      }
      case 'undo': {
        // By hand, path by path, as a person would without `git revert`: no rename detection.
        const undoable = ancestry.filter((mark) => (commits[mark - 1]?.parents.length ?? 0) === 1);
        if (undoable.length === 0) break;
        const undone = commits[pick(undoable) - 1] as HistoryCommit;
        const before = treeOf(undone.parents[0] as number);
        for (const path of new Set([...before.keys(), ...undone.tree.keys()])) {
          if (before.get(path) === undone.tree.get(path)) continue;
          const content = before.get(path);
          if (content === undefined) next.delete(path);
          else next.set(path, content);
        }
        if (next.size === 0) next.set(newPath(), [newLine()]);
        break;
      }
      case 'empty':
        break;
    }
    return next;
  };

  const randomOps = (): OpKind[] =>
    Array.from({ length: int(1, 2) }, () => {
      const roll = random();
      if (roll < 0.14) return 'add';
      if (roll < 0.5) return 'edit';
      if (roll < 0.58) return 'delete';
      if (roll < 0.7) return 'rename';
      if (roll < 0.82) return 'rename-edit';
      if (roll < 0.95) return 'undo';
      return 'empty';
    });

  /** A commit of random ops on top of `parent`; `ancestry` lists the commits an undo may pick from. */
  const step = (parent: number, ancestry: number[], kind: '' | 's'): number => {
    const ops = randomOps();
    const tree = ops.reduce<Tree>((current, op) => apply(current, op, ancestry), treeOf(parent));
    const mark = commit([parent], ops, tree, kind);
    ancestry.push(mark);
    return mark;
  };

  const root = commit([], ['add'], new Map(Array.from({ length: int(3, 5) }, () => [newPath(), Array.from({ length: int(5, 9) }, newLine)] as const)));
  const mainAncestry: number[] = [];
  let head = root;
  let merges = 0;
  for (let steps = int(3, 8); steps > 0; steps -= 1) {
    if (merges < 2 && random() < 0.2) {
      merges += 1;
      const fork = head;
      const sideAncestry = [...mainAncestry];
      let side = fork;
      for (let count = int(1, 2); count > 0; count -= 1) side = step(side, sideAncestry, 's');
      for (let count = int(0, 2); count > 0; count -= 1) head = step(head, mainAncestry, '');
      // The merge takes every path the side branch changed since the fork (the side wins a collision).
      const merged = new Map(treeOf(head));
      const before = treeOf(fork);
      const after = treeOf(side);
      for (const path of new Set([...before.keys(), ...after.keys()])) {
        if (before.get(path) === after.get(path)) continue;
        const content = after.get(path);
        if (content === undefined) merged.delete(path);
        else merged.set(path, content);
      }
      if (merged.size === 0) merged.set(newPath(), [newLine()]);
      head = commit([head, side], [], merged, 'm');
      mainAncestry.push(...sideAncestry.filter((mark) => !mainAncestry.includes(mark)), head);
    } else {
      head = step(head, mainAncestry, '');
    }
  }
  const target = pick(commits.slice(1)).mark;
  return { commits, head, target, fastImport: fastImportStream(commits) };
}

function fastImportStream(commits: readonly HistoryCommit[]): string {
  const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const parts: string[] = [];
  for (const commit of commits) {
    const time = `${START_TIME + commit.mark * 60} +0000`;
    // Side commits on their own ref, so that main ends at the head; every commit names its parent anyway.
    parts.push(`commit refs/heads/${commit.branch}\n`, `mark :${commit.mark}\n`);
    parts.push(`author History Maker <history@tend.invalid> ${time}\n`, `committer History Maker <history@tend.invalid> ${time}\n`);
    parts.push(data(`${commit.subject}\n`));
    const [first, ...others] = commit.parents;
    if (first !== undefined) parts.push(`from :${first}\n`);
    for (const other of others) parts.push(`merge :${other}\n`);
    parts.push('deleteall\n');
    for (const [path, lines] of [...commit.tree].sort(([a], [b]) => a.localeCompare(b))) {
      parts.push(`M 100644 inline ${path}\n`, data(lines.map((line) => `${line}\n`).join('')));
    }
    parts.push('\n');
  }
  return parts.join('');
}
