/**
 * Independent readers of the two syntaxes, written from systemd.service(5) and systemd's env-file parser
 * (src/basic/env-file.c), used to check that what we write reads back as what we meant. They accept only
 * what the man pages define and throw on anything systemd would warn about or treat specially.
 */

/** An ExecStart= value back to argv: word splitting, quotes, C escapes, then `%%` and `$$`. */
export function readExecLine(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    if (words.length === 0 && '-@:+!'.includes(line[i] ?? '')) throw new Error(`first word starts with a prefix: ${line}`);
    if (line[i] === ';' && (i + 1 === line.length || line[i + 1] === ' ')) throw new Error(`bare ; separates commands: ${line}`);
    let word = '';
    let quote: '"' | "'" | undefined;
    for (; i < line.length; i++) {
      const c = line[i] as string;
      if (quote === undefined && c === ' ') break;
      if (c === quote) {
        quote = undefined;
      } else if (quote === undefined && (c === '"' || c === "'")) {
        quote = c;
      } else if (c === '\\') {
        const next = line[++i];
        if (next === undefined || !'\\"\''.includes(next)) throw new Error(`escape systemd would not take literally: \\${next}`);
        word += next;
      } else {
        word += c;
      }
    }
    if (quote !== undefined) throw new Error(`unbalanced quoting: ${line}`);
    words.push(unescapeDollars(unescapeSpecifiers(word)));
  }
  return words;
}

function unescapeSpecifiers(word: string): string {
  return word.replace(/%(.?)/g, (_, c: string) => {
    if (c !== '%') throw new Error(`specifier %${c} would be expanded`);
    return '%';
  });
}

function unescapeDollars(word: string): string {
  return word.replace(/\$(.?)/g, (_, c: string) => {
    if (c !== '$') throw new Error(`$${c} would be expanded from the environment`);
    return '$';
  });
}

/** One env-file line `KEY="value"` back to [key, value], as systemd reads a double-quoted value. */
export function readEnvLine(line: string): [string, string] {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)="(.*)"$/s.exec(line);
  if (match === null) throw new Error(`not a KEY="value" line: ${line}`);
  const [, key = '', body = ''] = match;
  let value = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '"') throw new Error(`unescaped quote ends the value early: ${line}`);
    if (c !== '\\') {
      value += c;
      continue;
    }
    const next = body[++i];
    if (next === undefined) throw new Error(`dangling backslash: ${line}`);
    // Inside double quotes systemd unescapes exactly these four and keeps any other backslash.
    value += '"\\`$'.includes(next) ? next : `\\${next}`;
  }
  return [key, value];
}
