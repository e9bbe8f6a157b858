/**
 * Medians, ratios and the one report format every benchmark prints. Figures are medians of several runs
 * measured side by side in one process, because the machines are shared and noisy: a ratio of two
 * medians taken minutes apart on the same hosts means more than any absolute time.
 */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms)} ms`;
}

export function formatMiB(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

/** `values` as the report shows them: the median, then every run, so the spread is visible. */
export function describeRuns(values: readonly number[], format: (value: number) => string = formatMs): string {
  return `${format(median(values))} (runs: ${values.map(format).join(', ')})`;
}

export interface TargetCheck {
  readonly name: string;
  /** The measured figure, already in the unit of `limit`. */
  readonly measured: number;
  readonly limit: number;
  /** How the figure is shown: `1/24.3 of Ansible`, `181 ms`… */
  readonly shown: string;
  readonly target: string;
}

/** A measured figure against its target: met when measured ≤ limit. */
export function targetLine(check: TargetCheck): string {
  const verdict = check.measured <= check.limit ? 'MET' : 'MISSED';
  return `${verdict.padEnd(6)} ${check.name}: ${check.shown} (target ${check.target})`;
}

/** `a/b` as "1/N" when a is the smaller, so "tend took 1/24 of Ansible's time" reads directly. */
export function formatRatio(a: number, b: number): string {
  if (a <= 0 || b <= 0) return 'n/a';
  return a <= b ? `1/${(b / a).toFixed(1)}` : `${(a / b).toFixed(2)}×`;
}

/** Runs `measure` `runs` times in a row and returns the figures. */
export async function repeat(runs: number, measure: (run: number) => Promise<number>): Promise<number[]> {
  const figures: number[] = [];
  for (let run = 0; run < runs; run += 1) figures.push(await measure(run));
  return figures;
}

/** Prints a heading and its lines, and the same as one JSON line for scripts (`BENCH_JSON …`). */
export function report(title: string, lines: readonly string[], figures: Record<string, unknown>): void {
  console.log(`\n== ${title} ==`);
  for (const line of lines) console.log(line);
  console.log(`BENCH_JSON ${JSON.stringify({ bench: title, ...figures })}`);
}
