/** Where one service of an apply stands. */
export type ServiceProgress = 'waiting' | 'running' | 'healthy' | 'failed';

export interface ScheduledService {
  readonly service: string;
  /** Its `after:` list: only those in the same apply are waited for (the others were checked before). */
  readonly waitsFor: readonly string[];
}

export interface ScheduleStep {
  /** Start these now, in `after:` order. */
  readonly start: readonly string[];
  /** These will never start: a service they come after failed. */
  readonly skip: readonly { readonly service: string; readonly blockedBy: readonly string[] }[];
}

/**
 * Which services of an apply start now. Pure. A service starts once every service it comes `after:` in
 * this apply is healthy, and at most `limit` run at once; services with no `after:` path between them
 * run side by side. A failure holds only what comes after the failed service, never the others.
 */
export function scheduleServices(services: readonly ScheduledService[], progress: ReadonlyMap<string, ServiceProgress>, limit: number): ScheduleStep {
  const inApply = new Set(services.map((one) => one.service));
  let free = limit - services.filter((one) => progress.get(one.service) === 'running').length;
  const start: string[] = [];
  const skip: { service: string; blockedBy: string[] }[] = [];
  for (const one of services) {
    if ((progress.get(one.service) ?? 'waiting') !== 'waiting') continue;
    const waitsFor = one.waitsFor.filter((name) => inApply.has(name));
    const blockedBy = waitsFor.filter((name) => progress.get(name) === 'failed' || skip.some((skipped) => skipped.service === name));
    if (blockedBy.length > 0) {
      skip.push({ service: one.service, blockedBy });
      continue;
    }
    if (free > 0 && waitsFor.every((name) => progress.get(name) === 'healthy')) {
      start.push(one.service);
      free -= 1;
    }
  }
  return { start, skip };
}
