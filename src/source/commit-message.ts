/**
 * Reading a commit message the way git does: the subject is the first paragraph joined into one line
 * (`%s`), and trailers are the `Key: value` lines of the last paragraph when that paragraph is not the
 * subject and every line in it is a trailer or a continuation (a line starting with whitespace) of one.
 * That is git's strict rule; git's looser one (a quarter of the lines, one of them git-generated) is left
 * out: tend reads the trailers it writes itself, and a false positive would invent evidence.
 */

const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*):[ \t]*(.*)$/;

function paragraphs(message: string): string[][] {
  const result: string[][] = [];
  let current: string[] = [];
  for (const line of message.replace(/\r\n/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (current.length > 0) result.push(current);
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length > 0) result.push(current);
  return result;
}

export function commitSubject(message: string): string {
  const first = paragraphs(message)[0] ?? [];
  return first.map((line) => line.trim()).join(' ');
}

/** Trailers of the last paragraph, keys as written, values in order of appearance. */
export function commitTrailers(message: string): ReadonlyMap<string, readonly string[]> {
  const all = paragraphs(message);
  const last = all.length > 1 ? all[all.length - 1] : undefined;
  const trailers = new Map<string, string[]>();
  if (last === undefined) return trailers;
  const parsed: { key: string; value: string }[] = [];
  for (const line of last) {
    const previous = parsed.at(-1);
    if (/^[ \t]/.test(line) && previous !== undefined) {
      previous.value = `${previous.value} ${line.trim()}`.trim();
      continue;
    }
    const match = TRAILER_LINE.exec(line);
    if (match === null) return trailers;
    parsed.push({ key: match[1] ?? '', value: (match[2] ?? '').trim() });
  }
  for (const { key, value } of parsed) {
    const values = trailers.get(key);
    if (values === undefined) trailers.set(key, [value]);
    else values.push(value);
  }
  return trailers;
}
