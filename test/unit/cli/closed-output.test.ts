import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { outputWriter, streamTerminal } from '../../../src/cli/process-terminal.js';

/** tend's output layer against a pipe whose reader is gone, as under `tend apply --yes | head -1`. */

const readers: ChildProcess[] = [];

afterAll(() => {
  for (const reader of readers) reader.kill('SIGKILL');
});

/**
 * The write end of a real pipe whose reader closed it, as `head` does after its line: every write fails with
 * EPIPE. The reader stays alive (Node destroys a child's stdin itself once the child exits, hiding the error).
 */
async function closedPipe(): Promise<Writable> {
  const reader = spawn('sh', ['-c', 'exec 0<&-; echo closed; exec sleep 60'], { stdio: ['pipe', 'pipe', 'ignore'] });
  readers.push(reader);
  await once(reader.stdout, 'data');
  return reader.stdin;
}

/** Whether an 'error' event on the stream is handled: Node throws an unhandled one, which kills the process. */
function survivesAnotherError(stream: Writable): boolean {
  try {
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    return true;
  } catch {
    return false;
  }
}

describe('output into a closed pipe', () => {
  it('drops the output and lets a long command (a rollout printing progress) run to its end', async () => {
    const stream = await closedPipe();
    const broken: unknown[] = [];
    const write = outputWriter(stream, (error) => broken.push(error));
    let steps = 0;
    // Progress lines spread over many ticks, as a rollout prints them between probes.
    for (; steps < 20; steps++) {
      write(`[api web-${steps}] probe ok\n`);
      await sleep(1);
    }
    expect(steps).toBe(20);
    expect(stream.destroyed).toBe(true);
    expect(survivesAnotherError(stream)).toBe(true);
    // A closed pipe is how `head` says it has read enough: no complaint.
    expect(broken).toEqual([]);
  });

  it('reports a failure other than a closed pipe once, and still drops the output', async () => {
    const stream = await closedPipe();
    const broken: NodeJS.ErrnoException[] = [];
    const write = outputWriter(stream, (error) => broken.push(error));
    stream.emit('error', Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    stream.emit('error', Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    write('lost\n');
    expect(broken.map((error) => error.code)).toEqual(['ENOSPC']);
  });

  it('ends a command with its own exit code when stdout and stderr are closed', async () => {
    const stdout = await closedPipe();
    const stderr = await closedPipe();
    const terminal = streamTerminal({ stdout, stderr }, {}, process.cwd());
    expect(await main(['render', 'api', 'deploy-repo-example'], terminal)).toBe(0);
    expect(await main(['render', 'nosuch', 'deploy-repo-example'], terminal)).toBe(1);
    await sleep(10);
    expect([stdout.destroyed, stderr.destroyed]).toEqual([true, true]);
    expect([survivesAnotherError(stdout), survivesAnotherError(stderr)]).toEqual([true, true]);
  });

  it('tells what runs only to print (logs -f) that stdout is gone, and nothing while it is open', async () => {
    const open = streamTerminal({ stdout: new PassThrough(), stderr: new PassThrough() }, {}, process.cwd());
    open.out('a line\n');
    await sleep(10);
    expect(open.outClosed.aborted).toBe(false);

    const terminal = streamTerminal({ stdout: await closedPipe(), stderr: new PassThrough() }, {}, process.cwd());
    expect(terminal.outClosed.aborted).toBe(false);
    terminal.out('the line head wanted\n');
    terminal.out('one more\n');
    await sleep(10);
    expect(terminal.outClosed.aborted).toBe(true);
  });
});
