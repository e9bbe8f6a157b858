import { describe, expect, it } from 'vitest';
import { servicesToPlan } from '../../../src/preview/index.js';

/** Which services a ref's plan looks at, from the paths its commits change; undefined means every one. */

const SERVICES = ['api', 'worker', 'web'];

describe('servicesToPlan', () => {
  const cases: { name: string; paths: string[]; want: string[] | undefined }[] = [
    { name: 'plans only a service whose folder changed', paths: ['services/api/spec.yml'], want: ['api'] },
    { name: 'plans each service whose folder changed, files beside the spec included', paths: ['services/api/api', 'services/web/spec.yml'], want: ['api', 'web'] },
    { name: 'plans every service when the inventory changed', paths: ['services/api/spec.yml', 'inventory.yml'], want: undefined },
    { name: 'plans every service when tend.yml changed', paths: ['tend.yml'], want: undefined },
    { name: 'plans every service when a service folder the ref no longer has changed (its placements are pruned)', paths: ['services/gone/spec.yml'], want: undefined },
    { name: 'plans nothing for documentation outside services/ only', paths: ['README.md', 'docs/runbook.md'], want: [] },
    { name: 'plans nothing when nothing changed', paths: [], want: [] },
  ];
  for (const { name, paths, want } of cases) {
    it(name, () => {
      const got = servicesToPlan(paths, SERVICES);
      expect(got === undefined ? undefined : [...got].sort()).toEqual(want);
    });
  }
});
