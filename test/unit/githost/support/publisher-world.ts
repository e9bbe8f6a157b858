import { Writable } from 'node:stream';
import { createGitHostPublisher, type GitHostApi, type GitHostPublisher, type PublishKind } from '../../../../src/githost/index.js';
import { createLogger } from '../../../../src/observability/index.js';
import { planRef } from '../../../../src/preview/index.js';
import { DaemonWorld } from '../../daemon/support/daemon-world.js';

/** The value every secret of the world resolves to: it must reach no published body. */
export const SECRET_VALUE = 'secret-token-value';

/**
 * A git host publisher over `api`, fed by the daemon's in-memory world: plans from its source and fleet,
 * deploy results from its real reconciler. Retries wait on a clock the test moves, never on real time.
 */
export interface PublisherWorld {
  readonly world: DaemonWorld;
  readonly publisher: GitHostPublisher;
  readonly logLines: string[];
  /** Each retry's wait, in order. */
  readonly sleeps: number[];
  /** Each publication given up on or dropped: `gave up status`, `dropped comment`. */
  readonly losses: string[];
}

export async function publisherWorld(api: GitHostApi): Promise<PublisherWorld> {
  const world = await DaemonWorld.create();
  await world.settle();
  const logLines: string[] = [];
  const sleeps: number[] = [];
  const losses: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  let clock = 0;
  const lost = (how: string) => (kind: PublishKind) => losses.push(`${how} ${kind}`);
  const publisher = createGitHostPublisher({
    api,
    repository: 'acme/deploy',
    planForks: false,
    plan: (ref) => planRef({ source: world.source, base: world.source.head, fleet: world.fleet, secrets: { description: 'test secrets', read: async () => SECRET_VALUE } }, ref),
    statusUrl: 'https://tend.example.com/',
    logger: createLogger({ destination }),
    budget: { maxAttempts: 4, budgetMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 8_000 },
    effects: {
      clock: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    },
    losses: { gaveUp: lost('gave up'), dropped: lost('dropped') },
  });
  world.onStatus = (status) => publisher.observe(status);
  // The start: what the journal already says is remembered, not published.
  publisher.observe(world.reconciler.status);
  return { world, publisher, logLines, sleeps, losses };
}
