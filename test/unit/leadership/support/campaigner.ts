/**
 * A tend instance's leadership alone in its own process, so a test can kill -9 it: campaigns with the
 * endpoints, prefix and identity from argv and prints each change of its state as a JSON line.
 */
import { Writable } from 'node:stream';
import { startEtcdLeadership } from '../../../../src/leadership/index.js';
import { createLogger } from '../../../../src/observability/index.js';

const [endpoints = '', prefix = '', identity = '', ttl = '2000'] = process.argv.slice(2);
const leadership = await startEtcdLeadership({
  endpoints: endpoints.split(','),
  prefix,
  credentials: undefined,
  ttlMs: Number(ttl),
  self: { identity, url: `http://${identity}.invalid:9464` },
  logger: createLogger({ destination: new Writable({ write: (_chunk, _encoding, done) => done() }) }),
});
leadership.onChange((state) => process.stdout.write(`${JSON.stringify({ kind: state.kind })}\n`));
// The leadership's timers do not hold a process open (the daemon's API server does); this stands in for it.
setInterval(() => undefined, 1 << 30);
