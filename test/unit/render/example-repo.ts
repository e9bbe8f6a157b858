import { currentArtifactPath } from '../../../src/render/host-layout.js';
import type { ServiceSpec } from '../../../src/spec/model.js';
import { env, secret, service, text } from './fixtures.js';

/**
 * deploy-repo-example's services as the loader should model them, built by hand from their spec.yml
 * until the loader exists. `artifact` is the file in the repo the unit runs.
 */
export interface ExampleService {
  readonly spec: ServiceSpec;
  readonly artifact: string;
}

function artifactRun(name: string, fileName: string) {
  return { kind: 'artifact' as const, path: `services/${name}/${fileName}`, fileName, sha256: '0'.repeat(64), argv: [currentArtifactPath(name, fileName)] };
}

export const exampleServices: readonly ExampleService[] = [
  {
    artifact: 'deploy-repo-example/services/api/api',
    spec: service({
      name: 'api',
      group: 'web',
      description: 'Public API: answers /health and /version over HTTP',
      run: artifactRun('api', 'api'),
      environment: [env('API_PORT', 20, text('8080')), env('API_TOKEN', 21, secret('api_token'))],
    }),
  },
  {
    artifact: 'deploy-repo-example/services/gateway/gateway',
    spec: service({
      name: 'gateway',
      group: 'web',
      description: 'Gateway in front of api: healthy only while api answers',
      after: ['api'],
      run: artifactRun('gateway', 'gateway'),
      ports: [8081],
      limits: { memBytes: 256 * 1024 ** 2, noFile: 4096, cpuPercent: 50 },
      environment: [env('GATEWAY_PORT', 34, text('8081')), env('UPSTREAM', 35, text('http://127.0.0.1:8080'))],
    }),
  },
  {
    artifact: 'deploy-repo-example/services/queue/queue.sh',
    spec: service({
      name: 'queue',
      group: 'web',
      description: 'TCP queue stub: answers each connection with its version',
      run: artifactRun('queue', 'queue.sh'),
      ports: [9000],
      limits: { memBytes: 128 * 1024 ** 2, noFile: 1024, cpuPercent: undefined },
      environment: [env('QUEUE_PORT', 29, text('9000'))],
    }),
  },
  {
    artifact: 'deploy-repo-example/services/reports/reports',
    spec: service({
      name: 'reports',
      group: 'batch',
      description: 'Report server; its timer writes a report every minute',
      run: artifactRun('reports', 'reports'),
      ports: [8090],
      limits: { memBytes: 128 * 1024 ** 2, noFile: 1024, cpuPercent: undefined },
      environment: [env('REPORTS_PORT', 26, text('8090'))],
      timers: [
        {
          name: 'report',
          schedule: '* * * * *',
          onCalendar: '*-*-* *:*:00',
          argv: [currentArtifactPath('reports', 'reports'), 'report'],
          description: 'Write the minutely report',
        },
      ],
    }),
  },
];
