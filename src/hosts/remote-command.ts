import type { Client, ClientChannel } from 'ssh2';
import { TendError } from '../errors/index.js';
import { diskFullError, noSpaceLine, sudoRefusal, sudoRefusedError } from './host-faults.js';

/**
 * The one remote-exec path: one command on one SSH channel, with a timeout, an output cap, and an exit
 * status that is checked. It talks to the ssh2 channel directly rather than through node-ssh's
 * `execCommand`: that one decodes each chunk to a string on its own (a UTF-8 character split across two
 * chunks is corrupted), takes stdin only as a string or stream, has no timeout and no output cap. And
 * never node-ssh's `exec()`: it throws on any stderr and ignores the exit code.
 */

export interface RunOptions {
  /** Run as root through `sudo -n` when the host's user is not root. */
  readonly sudo?: boolean;
  /** Per-command limit; the pool's default when absent. */
  readonly timeoutMs?: number;
  /** Bytes for the command's stdin (then EOF). Secrets go here, never in argv: argv appears in messages. */
  readonly stdin?: Uint8Array | string;
  /** Exit codes that count as success besides 0 (e.g. `systemctl is-active` answering 3). */
  readonly okExitCodes?: readonly number[];
  /** Cap on stdout + stderr; the pool's default when absent. Output from a host is untrusted. */
  readonly maxOutputBytes?: number;
  /** The directory the command writes into, named in `E_HOST_DISK_FULL` when the host's disk is full. */
  readonly writesTo?: string;
  /**
   * stdout as it arrives, for a command that streams (`journalctl -f`): handed over, not kept (RunResult's
   * stdout is then empty) and not counted against the output cap.
   */
  readonly onStdout?: (chunk: Buffer) => void;
  /**
   * For a command that runs until told: its stdin is held open (no `stdin` may be given) and closed when
   * this aborts, which the command must take as its cue to exit (see `unitLogsArgv`). If the channel has
   * not closed a grace period later, it is killed and closed.
   */
  readonly stopWhen?: AbortSignal;
  /**
   * A line written to the host's journal (tag `tend`) in the same round trip, just before the command runs:
   * how a host step marks its start without costing a round trip.
   */
  readonly journalMark?: string;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What file transfer, observation and probes need from the pool: testable with a fake. */
export interface RemoteRunner {
  run(host: RunTarget, argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** The parts of a HostSpec the exec path needs. */
export interface RunTarget {
  readonly name: string;
  readonly user: string;
}

/** A connection as the exec path sees it: the ssh2 client and whether the pool still considers it alive. */
export interface LiveConnection {
  readonly client: Client;
  readonly alive: boolean;
  /** Tears the connection down (after a channel that would not close). */
  destroy(): void;
}

/** How a command ended, before the exit code is judged. */
export type ExecOutcome =
  | { readonly kind: 'exited'; readonly code: number; readonly stdout: Buffer; readonly stderr: Buffer }
  | { readonly kind: 'signalled'; readonly signal: string; readonly stdout: Buffer; readonly stderr: Buffer };

/** How long a channel we closed may take to confirm before the whole connection is torn down. */
const CLOSE_GRACE_MS = 5_000;
/**
 * How long a timed-out command gets to end on its own (the host's `timeout` sends TERM, then KILL two
 * seconds later) before the client sends KILL and closes the channel.
 */
const TERM_GRACE_MS = 4_000;
const STDERR_TAIL_LINES = 10;
const STDERR_TAIL_CHARS = 2_000;
const ARGV_DISPLAY_CHARS = 300;

/** argv as messages show it: readable, bounded, never the stdin. */
export function describeArgv(argv: readonly string[]): string {
  const text = argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word))).join(' ');
  return text.length > ARGV_DISPLAY_CHARS ? `${text.slice(0, ARGV_DISPLAY_CHARS)}…` : text;
}

/** The last lines of stderr, bounded: enough to see why, never a whole log in a message. */
export function stderrTail(stderr: string): string {
  const lines = stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
  return lines.length > STDERR_TAIL_CHARS ? `…${lines.slice(-STDERR_TAIL_CHARS)}` : lines;
}

/** How a command was run, as far as judging its outcome needs to know. */
export interface RunContext {
  /** The SSH user, when the command went through `sudo -n`: its refusals are told apart from the command's failures. */
  readonly sudoUser?: string | undefined;
  /** The directory the command writes into, named when the host's disk is full. */
  readonly writesTo?: string | undefined;
}

/**
 * Judges an outcome: an allowed exit code is a result, anything else is an error with host, command, exit
 * code and the stderr tail. Before the exit code is trusted, sudo refusing (`E_SUDO_REFUSED`: it exits 1,
 * which some callers allow) and a full disk (`E_HOST_DISK_FULL`) are recognised here, once for every
 * remote command: class conflict, since retrying cannot help until a person acts on the host. Any other
 * failure is `E_REMOTE_COMMAND`, transient: retried within the budget and then surfaced; it never reverts
 * a commit on its own (health is judged by probes, not by exit codes).
 */
export function judgeOutcome(
  host: string,
  argv: readonly string[],
  outcome: ExecOutcome,
  okExitCodes: readonly number[] = [],
  context: RunContext = {},
): RunResult {
  const stdout = outcome.stdout.toString('utf8');
  const stderr = outcome.stderr.toString('utf8');
  const command = describeArgv(argv);
  if (outcome.kind === 'exited' && context.sudoUser !== undefined) {
    const refusal = sudoRefusal(outcome.code, stderr);
    if (refusal !== undefined) throw sudoRefusedError(host, context.sudoUser, command, refusal);
  }
  if (outcome.kind === 'exited' && (outcome.code === 0 || okExitCodes.includes(outcome.code))) {
    return { code: outcome.code, stdout, stderr };
  }
  const noSpace = noSpaceLine(stderr);
  if (noSpace !== undefined) throw diskFullError(host, command, noSpace, context.writesTo);
  const how = outcome.kind === 'exited' ? `exited ${outcome.code}` : `was killed by signal ${outcome.signal}`;
  const tail = stderrTail(stderr);
  throw new TendError('E_REMOTE_COMMAND', 'transient', `${host}: \`${command}\` ${how}${tail === '' ? '' : `: ${tail}`}`, {
    where: { host, command },
    hint: 'Run the command on the host by hand to see why; tend retries within its budget and then stops.',
  });
}

export function outcomeUnknown(host: string, argv: readonly string[], detail: string, cause?: unknown): TendError {
  const command = describeArgv(argv);
  return new TendError(
    'E_OUTCOME_UNKNOWN',
    'transient',
    `${host}: the connection was lost while \`${command}\` ran (${detail}); whether it took effect is unknown`,
    {
      where: { host, command },
      hint: 'tend re-observes the host before acting again; nothing is assumed about this command.',
      cause,
    },
  );
}

export interface ExecRequest {
  readonly host: string;
  /** For messages only. */
  readonly argv: readonly string[];
  /** The shell text sent to sshd, already quoted. */
  readonly commandText: string;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly stdin: Uint8Array | string | undefined;
  readonly onStdout?: ((chunk: Buffer) => void) | undefined;
  readonly stopWhen?: AbortSignal | undefined;
}

/**
 * Runs one command on an open connection. Resolves with how it ended; rejects with a TendError when it
 * did not end (timeout, output cap, connection lost: outcome unknown) or never started. Settles only once
 * the channel is closed, so the caller's channel slot is not freed while sshd still counts the session.
 */
export function execOnConnection(connection: LiveConnection, request: ExecRequest): Promise<ExecOutcome> {
  const { host, argv } = request;
  const command = describeArgv(argv);
  return new Promise<ExecOutcome>((resolve, reject) => {
    let channel: ClientChannel | undefined;
    let failure: TendError | undefined;
    let exit: { code: number } | { signal: string } | undefined;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let stopTimer: NodeJS.Timeout | undefined;
    let onStop: (() => void) | undefined;

    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      clearTimeout(stopTimer);
      if (onStop !== undefined) request.stopWhen?.removeEventListener('abort', onStop);
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      const out = Buffer.concat(stdout);
      const err = Buffer.concat(stderr);
      if (exit === undefined) {
        const detail = connection.alive ? 'the channel closed without an exit status' : 'no exit status';
        reject(outcomeUnknown(host, argv, detail));
      } else if ('code' in exit) {
        resolve({ kind: 'exited', code: exit.code, stdout: out, stderr: err });
      } else {
        resolve({ kind: 'signalled', signal: exit.signal, stdout: out, stderr: err });
      }
    };

    /**
     * Stops the command. The host's `timeout` wrapper (shell-quote.ts) is what reliably ends it; a signal
     * request helps in non-root sessions (sshd >= 7.9 killpg()s the session; sudo relays TERM) and is
     * ignored in root ones. If the channel is still open after the grace, SIGKILL and close it: closing
     * alone leaves a command without a terminal running.
     */
    const abort = (error: TendError): void => {
      failure ??= error;
      const open = channel;
      if (open === undefined) {
        // The channel has not opened yet; the exec callback sees `failure` and comes back here.
        return;
      }
      if (graceTimer !== undefined) return;
      sendSignal(open, 'TERM');
      graceTimer = setTimeout(() => {
        sendSignal(open, 'KILL');
        open.close();
        graceTimer = setTimeout(() => {
          // sshd never confirmed the close: the connection is wedged. Tear it down rather than leak a session.
          connection.destroy();
          settle();
        }, CLOSE_GRACE_MS);
      }, TERM_GRACE_MS);
    };

    const timer = setTimeout(() => {
      abort(
        new TendError('E_COMMAND_TIMEOUT', 'transient', `${host}: \`${command}\` did not finish within ${request.timeoutMs} ms`, {
          where: { host, command },
          hint:
            'tend sent it SIGTERM and closed the channel; it may still have had an effect. tend re-observes ' +
            'the host before acting again. A slow host may need a longer timeout.',
        }),
      );
    }, request.timeoutMs);

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (failure !== undefined) return;
      outputBytes += chunk.length;
      if (outputBytes > request.maxOutputBytes) {
        abort(
          new TendError(
            'E_REMOTE_OUTPUT_TOO_LARGE',
            'conflict',
            `${host}: \`${command}\` wrote more than ${request.maxOutputBytes} bytes of output; stopped it`,
            {
              where: { host, command },
              hint: 'Output from a host is untrusted and bounded. Look at what the command prints on the host.',
            },
          ),
        );
        return;
      }
      into.push(chunk);
    };

    const onChannel = (error: Error | undefined, opened: ClientChannel): void => {
      if (error !== undefined) {
        failure ??= channelFailure(connection, host, argv, error);
        settle();
        return;
      }
      channel = opened;
      const streamed = request.onStdout;
      opened.on('data', streamed === undefined ? collect(stdout) : (chunk: Buffer) => streamed(chunk));
      opened.stderr.on('data', collect(stderr));
      opened.on('exit', (code: number | null, signal?: string) => {
        if (typeof code === 'number') exit = { code };
        else if (typeof signal === 'string') exit = { signal };
      });
      opened.on('close', settle);
      // Channel write errors surface as the channel closing; the outcome logic above covers them.
      opened.on('error', () => undefined);
      if (failure !== undefined) {
        // Timed out while the channel was opening.
        abort(failure);
        return;
      }
      const input = request.stdin;
      const stopWhen = request.stopWhen;
      if (stopWhen !== undefined && input === undefined) {
        onStop = () => {
          opened.end();
          // The command should exit at EOF on stdin; one that does not is killed and its channel closed.
          stopTimer = setTimeout(() => {
            sendSignal(opened, 'KILL');
            opened.close();
          }, TERM_GRACE_MS);
        };
        if (stopWhen.aborted) onStop();
        else stopWhen.addEventListener('abort', onStop, { once: true });
      } else if (input === undefined) opened.end();
      else opened.end(typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    };

    try {
      connection.client.exec(request.commandText, onChannel);
    } catch (error) {
      // ssh2 throws "Not connected" synchronously when the socket is gone: the command never started.
      failure ??= new TendError('E_HOST_UNREACHABLE', 'transient', `${host}: connection lost before \`${command}\` started`, {
        where: { host, command },
        hint: 'tend reconnects on the next attempt.',
        cause: error,
      });
      settle();
    }
  });
}

/**
 * The exec request failed before a channel was handed over. With the connection gone, the request may or
 * may not have reached sshd: only ssh2's "No response from server" (the channel never opened) proves the
 * command did not start; anything else is treated as outcome unknown, the safe side.
 */
function channelFailure(connection: LiveConnection, host: string, argv: readonly string[], error: Error): TendError {
  const command = describeArgv(argv);
  if (!connection.alive) {
    if (error.message === 'No response from server') {
      return new TendError('E_HOST_UNREACHABLE', 'transient', `${host}: connection lost before \`${command}\` started`, {
        where: { host, command },
        hint: 'tend reconnects on the next attempt.',
        cause: error,
      });
    }
    return outcomeUnknown(host, argv, error.message, error);
  }
  return new TendError('E_SSH_CHANNEL', 'transient', `${host}: sshd refused a channel for \`${command}\`: ${error.message}`, {
    where: { host, command },
    hint: "The host's sshd may allow fewer sessions (MaxSessions) than tend's channel limit; tend retries.",
    cause: error,
  });
}

/**
 * ssh2's public `channel.signal()` silently does nothing once stdin has been closed (it requires the
 * channel to be writable), and every command here closes stdin at once. The protocol message itself is
 * valid on a half-closed channel, so it is sent through ssh2's protocol object, checked at runtime: if a
 * future ssh2 moves it, the command is still stopped by closing the channel, only less reliably.
 */
function sendSignal(channel: ClientChannel, name: 'TERM' | 'KILL'): void {
  if (channel.writable) {
    channel.signal(name);
    return;
  }
  const internals = channel as unknown as {
    outgoing?: { id?: unknown; state?: unknown };
    _client?: { _protocol?: { signal?: unknown } };
  };
  const protocol = internals._client?._protocol;
  const id = internals.outgoing?.id;
  const state = internals.outgoing?.state;
  if (protocol === undefined || typeof protocol.signal !== 'function' || typeof id !== 'number') return;
  if (state !== 'open' && state !== 'eof') return;
  try {
    (protocol.signal as (this: unknown, id: number, signal: string) => void).call(protocol, id, name);
  } catch {
    // The connection went away meanwhile; the channel closes with it.
  }
}
