import { StringDecoder } from 'node:string_decoder';

/**
 * `tend logs` output: lines from several hosts, arriving in chunks that split lines (and UTF-8
 * characters) anywhere, printed whole and each prefixed with its host, padded so the text lines up. A
 * line is never interleaved with another host's; lines of one host keep their order.
 */
export class HostLineMerger {
  readonly #write: (text: string) => void;
  readonly #width: number;
  readonly #pending = new Map<string, { decoder: StringDecoder; partial: string }>();

  constructor(hosts: readonly string[], write: (text: string) => void) {
    this.#write = write;
    this.#width = Math.max(0, ...hosts.map((host) => host.length));
  }

  /** A chunk of one host's output: its complete lines are written at once, the rest waits. */
  push(host: string, chunk: Buffer): void {
    const state = this.#stateOf(host);
    const text = state.partial + state.decoder.write(chunk);
    const end = text.lastIndexOf('\n');
    if (end === -1) {
      state.partial = text;
      return;
    }
    state.partial = text.slice(end + 1);
    this.#write(this.#prefixed(host, text.slice(0, end)));
  }

  /** The host is done: a last line without its newline is written with one. */
  end(host: string): void {
    const state = this.#pending.get(host);
    if (state === undefined) return;
    const rest = state.partial + state.decoder.end();
    this.#pending.delete(host);
    if (rest !== '') this.#write(this.#prefixed(host, rest));
  }

  #prefixed(host: string, lines: string): string {
    const prefix = `${host.padEnd(this.#width)} | `;
    return `${lines.split('\n').map((line) => prefix + line).join('\n')}\n`;
  }

  #stateOf(host: string): { decoder: StringDecoder; partial: string } {
    let state = this.#pending.get(host);
    if (state === undefined) {
      state = { decoder: new StringDecoder('utf8'), partial: '' };
      this.#pending.set(host, state);
    }
    return state;
  }
}
