import type { Writable } from 'node:stream';
import type { Terminal } from './command.js';

/**
 * Writes to one of the process's output streams, and keeps going when its reader is gone: `tend ... | head -1`
 * closes the pipe after one line, and the next write fails with EPIPE, which Node raises as an 'error' event
 * that kills the process when nobody listens. A rollout must not die halfway because its output stopped
 * being read, so from the first failed write on, output is dropped and the command runs to its end.
 * A failure other than a closed pipe (a full disk under `> file`) is reported once through `onBroken`;
 * either way `onGone` is told once, for what runs only to print.
 */
export function outputWriter(stream: Writable, onBroken: (error: NodeJS.ErrnoException) => void, onGone: () => void = () => undefined): (text: string) => void {
  let open = true;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!open) return;
    open = false;
    if (error.code !== 'EPIPE') onBroken(error);
    onGone();
  });
  return (text) => {
    // A failed write destroys the stream at once; its 'error' event only comes on the next tick.
    if (!open || stream.destroyed) return;
    stream.write(text);
  };
}

export interface OutputStreams {
  readonly stdout: Writable & { readonly isTTY?: boolean };
  readonly stderr: Writable;
}

/** A terminal over two output streams, each surviving its reader going away; `main` runs on the process's own. */
export function streamTerminal(streams: OutputStreams, env: NodeJS.ProcessEnv, cwd: string): Terminal {
  const err = outputWriter(streams.stderr, () => undefined);
  const outGone = new AbortController();
  const out = outputWriter(
    streams.stdout,
    (error) => err(`tend: output dropped: stdout failed (${error.code ?? error.message})\n`),
    () => outGone.abort(),
  );
  return { out, err, outClosed: outGone.signal, isTTY: streams.stdout.isTTY === true, env, cwd };
}

export function processTerminal(): Terminal {
  return streamTerminal(process, process.env, process.cwd());
}
