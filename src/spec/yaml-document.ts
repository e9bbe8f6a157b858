import { CST, Composer, Lexer, LineCounter, Parser, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Document, Node as YamlNode, ScalarTag } from 'yaml';

import type { FileLocation, Issue } from '../errors/index.js';
import { specIssue } from './issue-codes.js';
import type { SpecIssueCode } from './issue-codes.js';

/**
 * One YAML file of the deploy repo turned into plain data, with the position of every node kept so that
 * schema and cross-file errors can point at `file:line:col` of the exact key or value.
 *
 * The parse is deliberately narrow. YAML 1.2 core schema (1.1 would turn the key `y:` into `true`) plus one
 * tag that reads `10_000` as 10000, because the article's spec writes limits that way. Anchors, aliases,
 * non-core tags, directives, several documents and prototype-polluting keys are refused outright: a
 * deploy spec has no use for them and each is a known route to surprise (alias bombs, `!!js/function`).
 */

/** Paths inside a file are JSON pointers, the same strings ajv reports as `instancePath`. */
export type Pointer = string;

export function pointerOf(segments: readonly (string | number)[]): Pointer {
  return segments.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export function childPointer(parent: Pointer, segment: string | number): Pointer {
  return parent + pointerOf([segment]);
}

export interface YamlFile {
  /** Path relative to the repo root. */
  readonly file: string;
  /** Plain data: objects, arrays, strings, numbers, booleans, null. */
  readonly value: unknown;
  /** Whether the file has a node at that pointer. */
  has(pointer: Pointer): boolean;
  /** Position of the value at the pointer, or of its nearest ancestor that exists. */
  at(pointer: Pointer): FileLocation;
  /** Position of the key of the value at the pointer (falls back to `at`). */
  keyAt(pointer: Pointer): FileLocation;
  /**
   * Position of a character inside a string value: 0-based line and column within the string. Exact for
   * literal block scalars (`|`) and single-line scalars; elsewhere the start of the value.
   */
  textAt(pointer: Pointer, line: number, column: number): FileLocation;
}

export type YamlParseResult = { readonly ok: true; readonly doc: YamlFile } | { readonly ok: false; readonly issues: readonly Issue[] };

export interface YamlLimits {
  /** Collections nested deeper than this are refused before composing (see `checkDepth`). */
  readonly maxDepth: number;
  /** At most this many YAML syntax errors are reported per file; the rest are noise from the first. */
  readonly maxSyntaxIssues: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = { maxDepth: 64, maxSyntaxIssues: 20 };

/**
 * YAML 1.1 integers with underscores (`10_000`). Only plain scalars that are digits separated by single
 * underscores match, so `_1`, `1_` and `1__0` stay strings and every other core rule is untouched.
 */
export const underscoreIntTag: ScalarTag = {
  identify: (value) => typeof value === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^[-+]?[0-9]+(?:_[0-9]+)+$/,
  resolve: (source) => Number(source.replaceAll('_', '')),
};

/** Explicit tags a person may write; they only restate what the core schema already does. */
const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((name) => `tag:yaml.org,2002:${name}`),
);

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** C0 controls except tab, LF and CR; DEL; C1 controls. None belongs in a hand-written YAML file. */
const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

interface NodeInfo {
  readonly keyOffset: number | undefined;
  readonly valueOffset: number;
  readonly scalarType: string | undefined;
  readonly valueEnd: number;
}

export function parseYamlFile(file: string, bytes: Uint8Array, limits: YamlLimits = DEFAULT_YAML_LIMITS): YamlParseResult {
  const decoded = decodeText(file, bytes);
  if (!decoded.ok) return decoded;
  const text = decoded.text;

  const control = RAW_CONTROL.exec(text);
  if (control !== null) {
    const code = control[0].codePointAt(0) ?? 0;
    return fail(
      specIssue(
        'E_CONTROL_CHAR',
        { file, ...positionInText(text, control.index) },
        `control character U+${code.toString(16).toUpperCase().padStart(4, '0')} in the file`,
        'Remove it; to put a control character in a value, write it as an escape inside double quotes ("\\t").',
      ),
    );
  }

  const lineCounter = new LineCounter();
  const where = (offset: number): FileLocation => ({ file, ...lineCounter.linePos(offset) });
  const tooDeep = lexicalDepthOverflow(text, limits.maxDepth * 2);
  if (tooDeep !== undefined) {
    return fail(specIssue('E_YAML_DEPTH', { file, ...positionInText(text, tooDeep) }, `the YAML nests more than ${limits.maxDepth} levels deep`, 'A deploy spec needs a handful of levels; flatten this structure.'));
  }
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));

  const structural = checkTokens(tokens, limits.maxDepth);
  if (structural !== undefined) return fail(specIssue(structural.code, where(structural.offset), structural.message, structural.hint));

  const composer = new Composer({
    version: '1.2',
    schema: 'core',
    customTags: [underscoreIntTag],
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  const docs = Array.from(composer.compose(tokens, true, text.length));
  const doc = docs[0];
  if (doc === undefined || doc.contents === null || isEmptyScalar(doc.contents)) {
    return fail(specIssue('E_EMPTY_FILE', { file, line: 1, col: 1 }, 'the file is empty', 'Write the YAML this file is for, or delete the file if it is optional.'));
  }

  const syntax = syntaxIssues(doc, where, limits.maxSyntaxIssues);
  if (syntax.length > 0) return { ok: false, issues: syntax };

  const nodes = new Map<Pointer, NodeInfo>();
  const issues: Issue[] = [];
  const value = toPlain(doc.contents, '', undefined, { nodes, issues, where });
  if (issues.length > 0) return { ok: false, issues };

  return { ok: true, doc: makeYamlFile(file, value, nodes, lineCounter, text) };
}

/** `---` alone composes to an empty null scalar; `~` or `null` written out is a value (and a schema error). */
function isEmptyScalar(node: unknown): boolean {
  if (!isScalar(node) || node.value !== null) return false;
  const [start, end] = node.range ?? [0, 0];
  return start === end;
}

function fail(issue: Issue): YamlParseResult {
  return { ok: false, issues: [issue] };
}

type Decoded = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly issues: readonly Issue[] };

function decodeText(file: string, bytes: Uint8Array): Decoded {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return {
      ok: false,
      issues: [
        specIssue(
          'E_BINARY_FILE',
          { file, ...positionOfByte(bytes, nul) },
          'the file contains a NUL byte; it looks binary, not YAML',
          'Save the file as UTF-8 text (a UTF-16 editor setting also produces NUL bytes).',
        ),
      ],
    };
  }
  const invalid = firstInvalidUtf8(bytes);
  if (invalid !== -1) {
    return {
      ok: false,
      issues: [
        specIssue(
          'E_ENCODING',
          { file, ...positionOfByte(bytes, invalid) },
          `the file is not valid UTF-8 (byte 0x${(bytes[invalid] ?? 0).toString(16).padStart(2, '0')} at offset ${invalid})`,
          'Re-save the file as UTF-8.',
        ),
      ],
    };
  }
  // A leading BOM is dropped by TextDecoder; YAML allows it and it carries no meaning.
  return { ok: true, text: new TextDecoder('utf-8').decode(bytes) };
}

/** Index of the first byte that does not start or continue a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let min: number;
    let codePoint: number;
    if (lead >= 0xc2 && lead <= 0xdf) [need, min, codePoint] = [1, 0x80, lead & 0x1f];
    else if (lead >= 0xe0 && lead <= 0xef) [need, min, codePoint] = [2, 0x800, lead & 0x0f];
    else if (lead >= 0xf0 && lead <= 0xf4) [need, min, codePoint] = [3, 0x10000, lead & 0x07];
    else return i;
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (codePoint < min || (codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}

function positionOfByte(bytes: Uint8Array, index: number): { line: number; col: number } {
  let lineStart = 0;
  let line = 1;
  for (let i = 0; i < index; i++) {
    if (bytes[i] === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  // Columns count UTF-16 code units, as yaml's LineCounter does, so every position in a message agrees.
  const prefix = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(lineStart, index));
  return { line, col: prefix.length + 1 };
}

function positionInText(text: string, index: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, col: index - lineStart + 1 };
}

/**
 * An upper bound of the nesting depth, from the lexer alone, checked before yaml's parser runs: the
 * parser recurses per block level (`- - - - x` nests on one line), and 20000 levels overflow the stack of a
 * worker thread. The bound counts open indentation levels, the block indicators (`-`, `?`, `:`) on the
 * current line and open flow brackets, so it over-estimates; hence a limit twice the real one. Returns the
 * offset where the bound is exceeded.
 */
function lexicalDepthOverflow(text: string, limit: number): number | undefined {
  let offset = 0;
  let flow = 0;
  let lineIndicators = 0;
  let atLineStart = true;
  let pendingIndent = 0;
  let scalarNext = false;
  const indents: number[] = [];
  for (const source of new Lexer().lex(text)) {
    // Control characters are refused before this runs, so these are the lexer's own markers, not text.
    if (source === '\u0002' || source === '\u0018') continue;
    if (source === '\u001f') {
      scalarNext = true;
      continue;
    }
    const start = offset;
    offset += source.length;
    const type = scalarNext ? 'scalar' : CST.tokenType(source);
    scalarNext = false;
    if (type === 'newline') {
      atLineStart = true;
      pendingIndent = 0;
      lineIndicators = 0;
      continue;
    }
    if (type === 'space' || type === 'comment') {
      if (atLineStart && type === 'space') pendingIndent = source.length;
      continue;
    }
    if (atLineStart) {
      atLineStart = false;
      if (flow === 0) {
        while (indents.length > 0 && (indents.at(-1) ?? 0) > pendingIndent) indents.pop();
        if (indents.length === 0 || (indents.at(-1) ?? 0) < pendingIndent) indents.push(pendingIndent);
      }
    }
    if (flow === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind')) lineIndicators += 1;
    if (type === 'flow-seq-start' || type === 'flow-map-start') flow += 1;
    if (type === 'flow-seq-end' || type === 'flow-map-end') flow = Math.max(0, flow - 1);
    if (indents.length + lineIndicators + flow > limit) return start;
    if (type === 'scalar' && source.endsWith('\n')) {
      atLineStart = true;
      pendingIndent = 0;
      lineIndicators = 0;
    }
  }
  return undefined;
}

interface StructuralProblem {
  readonly code: SpecIssueCode;
  readonly offset: number;
  readonly message: string;
  readonly hint: string;
}

const COLLECTION_TOKENS = new Set(['block-map', 'block-seq', 'flow-collection']);

/** Explicit tags as written in the source; with %TAG refused, `!!x` always means tag:yaml.org,2002:x. */
const CORE_TAG_SOURCES = new Set(['!!str', '!!int', '!!float', '!!bool', '!!null', '!!map', '!!seq']);

interface CstToken {
  readonly type?: unknown;
  readonly offset?: unknown;
  readonly source?: unknown;
}

/**
 * Checks the concrete syntax tree before composing it. The lexer and parser are iterative, but yaml's
 * composer recurses once per nesting level: a few thousand `[` exhaust the stack, and after one such
 * overflow a later parse in the same process has been seen to abort node with a fatal V8 RegExp OOM.
 * So depth is measured here, iteratively, and a deep file never reaches the composer. Anchors, aliases and
 * tags are found here too, where the token still has the position of the `&`, `*` or `!` itself.
 */
function checkTokens(tokens: readonly unknown[], maxDepth: number): StructuralProblem | undefined {
  let documents = 0;
  for (const token of tokens) {
    const cst = token as CstToken;
    const offset = typeof cst.offset === 'number' ? cst.offset : 0;
    if (cst.type === 'directive') {
      return {
        code: 'E_YAML_DIRECTIVE',
        offset,
        message: 'YAML directives (%YAML, %TAG) are not allowed',
        hint: 'Delete the directive line; tend always reads YAML 1.2 with the core schema.',
      };
    }
    if (cst.type !== 'document') continue;
    documents += 1;
    if (documents > 1) {
      return {
        code: 'E_YAML_MULTIPLE_DOCUMENTS',
        offset,
        message: 'the file holds more than one YAML document',
        hint: 'Keep one document per file: delete this `---` and what follows, or move it to its own file.',
      };
    }
  }
  let first: StructuralProblem | undefined;
  const consider = (problem: StructuralProblem): void => {
    if (first === undefined || problem.offset < first.offset) first = problem;
  };
  const stack: { node: unknown; depth: number }[] = tokens.map((node) => ({ node, depth: 0 }));
  while (stack.length > 0) {
    const { node, depth } = stack.pop() ?? { node: undefined, depth: 0 };
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const child of node) stack.push({ node: child, depth });
      continue;
    }
    const token = node as CstToken;
    const offset = typeof token.offset === 'number' ? token.offset : 0;
    const source = typeof token.source === 'string' ? token.source : '';
    const nextDepth = typeof token.type === 'string' && COLLECTION_TOKENS.has(token.type) ? depth + 1 : depth;
    if (nextDepth > maxDepth) {
      consider({
        code: 'E_YAML_DEPTH',
        offset,
        message: `collections are nested more than ${maxDepth} levels deep`,
        hint: 'A deploy spec needs a handful of levels; flatten this structure.',
      });
      // Nothing below this point can be more useful than the depth error; do not walk it.
      continue;
    }
    if (token.type === 'anchor' || token.type === 'alias') {
      consider({
        code: 'E_YAML_ALIAS',
        offset,
        message: `${token.type === 'anchor' ? 'anchor' : 'alias'} ${source} is not allowed`,
        hint: 'Write the value out in full; tend refuses YAML anchors and aliases (they are how alias bombs work).',
      });
    } else if (token.type === 'tag' && !CORE_TAG_SOURCES.has(source)) {
      consider({
        code: 'E_YAML_TAG',
        offset,
        message: `tag ${source} is not allowed`,
        hint: 'Remove the tag; tend reads only plain YAML values (strings, numbers, booleans, lists, mappings).',
      });
    }
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push({ node: child, depth: nextDepth });
    }
  }
  return first;
}

function syntaxIssues(doc: Document.Parsed, where: (offset: number) => FileLocation, max: number): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  let syntaxReported = false;
  for (const error of doc.errors) {
    // After the first real syntax error yaml's later ones are mostly its echo (a bad indent misaligns
    // everything below it); duplicate keys are independent, so all of those are kept.
    if (error.code !== 'DUPLICATE_KEY') {
      if (syntaxReported) continue;
      syntaxReported = true;
    }
    const at = where(error.pos[0]);
    const key = `${at.line}:${at.col}:${error.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (error.code === 'DUPLICATE_KEY') {
      issues.push(specIssue('E_YAML_DUPLICATE_KEY', at, 'this key appears twice in the same mapping', 'Delete one of the two entries; YAML would silently keep only the last.'));
    } else if (error.code === 'RESOURCE_EXHAUSTION') {
      issues.push(specIssue('E_YAML_DEPTH', at, 'the YAML is nested too deeply to read', 'Flatten this structure.'));
    } else {
      issues.push(specIssue('E_YAML', at, `invalid YAML: ${error.message}`, 'Fix the YAML syntax here; indentation and unclosed brackets or quotes are the usual causes.'));
    }
    if (issues.length >= max) break;
  }
  return issues;
}

interface ConvertContext {
  readonly nodes: Map<Pointer, NodeInfo>;
  readonly issues: Issue[];
  readonly where: (offset: number) => FileLocation;
}

function toPlain(node: YamlNode | null, pointer: Pointer, keyOffset: number | undefined, context: ConvertContext): unknown {
  if (node === null) {
    // `key:` with nothing after it: yaml may give no node at all; the key is the best place to point at.
    const offset = keyOffset ?? 0;
    context.nodes.set(pointer, { keyOffset, valueOffset: offset, scalarType: undefined, valueEnd: offset });
    return null;
  }
  const [start, valueEnd] = node.range ?? [keyOffset ?? 0, keyOffset ?? 0];
  if (isAlias(node)) {
    context.issues.push(specIssue('E_YAML_ALIAS', context.where(start), `alias *${node.source} is not allowed`, 'Write the value out in full; tend refuses YAML anchors and aliases.'));
    return undefined;
  }
  if (node.anchor !== undefined) {
    context.issues.push(specIssue('E_YAML_ALIAS', context.where(start), `anchor &${node.anchor} is not allowed`, 'Remove the anchor and write values out in full; tend refuses YAML anchors and aliases.'));
    return undefined;
  }
  if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
    context.issues.push(specIssue('E_YAML_TAG', context.where(start), `tag ${node.tag} is not allowed`, 'Remove the tag; tend reads only plain YAML values (strings, numbers, booleans, lists, mappings).'));
    return undefined;
  }
  context.nodes.set(pointer, {
    keyOffset,
    valueOffset: start,
    scalarType: isScalar(node) ? node.type : undefined,
    valueEnd,
  });

  if (isScalar(node)) {
    const value: unknown = node.value;
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    context.issues.push(specIssue('E_YAML_TAG', context.where(start), 'this value is not a string, number, boolean or null', 'Write a plain value.'));
    return undefined;
  }
  if (isSeq(node)) {
    return node.items.map((item, index) => {
      if (isPair(item)) {
        const offset = (item.key as YamlNode | null)?.range?.[0] ?? start;
        context.issues.push(specIssue('E_YAML_KEY', context.where(offset), 'a key: value pair inside a flow list is not allowed', 'Write a mapping `{ key: value }` or a list of plain values.'));
        return undefined;
      }
      return toPlain(item as YamlNode | null, childPointer(pointer, index), undefined, context);
    });
  }
  if (isMap(node)) {
    const result: Record<string, unknown> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      const keyStart = keyNode?.range?.[0] ?? start;
      if (keyNode === null || !isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        context.issues.push(specIssue('E_YAML_KEY', context.where(keyStart), 'mapping keys must be plain strings', 'Write the key as a plain word such as `name`.'));
        continue;
      }
      if (keyNode.anchor !== undefined || (keyNode.tag !== undefined && !CORE_TAGS.has(keyNode.tag))) {
        context.issues.push(specIssue(keyNode.anchor === undefined ? 'E_YAML_TAG' : 'E_YAML_ALIAS', context.where(keyStart), 'keys may not carry anchors or tags', 'Write the key as a plain word.'));
        continue;
      }
      const key = String(keyNode.value);
      if (FORBIDDEN_KEYS.has(key)) {
        context.issues.push(specIssue('E_FORBIDDEN_KEY', context.where(keyStart), `the key \`${key}\` is not allowed`, 'Rename or remove it; tend refuses keys that could alter JavaScript object prototypes.'));
        continue;
      }
      if (Object.hasOwn(result, key)) {
        // yaml compares keys by value, so `1:` and `"1":` pass its check yet collide as object keys.
        context.issues.push(specIssue('E_YAML_DUPLICATE_KEY', context.where(keyStart), `the key \`${key}\` appears twice in the same mapping`, 'Delete one of the two entries.'));
        continue;
      }
      const child = toPlain(pair.value as YamlNode | null, childPointer(pointer, key), keyStart, context);
      // defineProperty, not assignment: no key can ever reach a setter on Object.prototype.
      Object.defineProperty(result, key, { value: child, enumerable: true, writable: true, configurable: true });
    }
    return result;
  }
  context.issues.push(specIssue('E_YAML', context.where(start), 'unsupported YAML node', 'Write a plain value, list or mapping.'));
  return undefined;
}

function parentPointer(pointer: Pointer): Pointer {
  const cut = pointer.lastIndexOf('/');
  return cut <= 0 ? '' : pointer.slice(0, cut);
}

function makeYamlFile(file: string, value: unknown, nodes: ReadonlyMap<Pointer, NodeInfo>, lineCounter: LineCounter, text: string): YamlFile {
  const position = (offset: number): FileLocation => ({ file, ...lineCounter.linePos(offset) });

  function nearest(pointer: Pointer): NodeInfo | undefined {
    let current = pointer;
    for (;;) {
      const info = nodes.get(current);
      if (info !== undefined || current === '') return info;
      current = parentPointer(current);
    }
  }

  function at(pointer: Pointer): FileLocation {
    const info = nearest(pointer);
    return info === undefined ? { file, line: 1, col: 1 } : position(info.valueOffset);
  }

  return {
    file,
    value,
    has: (pointer) => nodes.has(pointer),
    at,
    keyAt(pointer) {
      const info = nodes.get(pointer);
      return info?.keyOffset === undefined ? at(pointer) : position(info.keyOffset);
    },
    textAt(pointer, line, column) {
      const info = nodes.get(pointer);
      if (info === undefined) return at(pointer);
      const start = position(info.valueOffset);
      if (info.scalarType === 'BLOCK_LITERAL') {
        const contentLine = start.line + 1 + line;
        const indent = blockIndent(text, lineCounter, start.line, info);
        if (indent !== undefined && contentLine <= lineCounter.lineStarts.length) return { file, line: contentLine, col: indent + column + 1 };
        return start;
      }
      const singleLine = !text.slice(info.valueOffset, info.valueEnd).includes('\n');
      if (line === 0 && singleLine) {
        const quoted = info.scalarType === 'QUOTE_DOUBLE' || info.scalarType === 'QUOTE_SINGLE';
        return { file, line: start.line, col: start.col + (quoted ? 1 : 0) + column };
      }
      return start;
    },
  };
}

/** Indentation of a literal block scalar's content: the explicit indicator, or its first non-blank line. */
function blockIndent(text: string, lineCounter: LineCounter, headerLine: number, info: NodeInfo): number | undefined {
  const headerStart = lineCounter.lineStarts[headerLine - 1] ?? 0;
  const headerEnd = text.indexOf('\n', info.valueOffset);
  const header = text.slice(info.valueOffset, headerEnd === -1 ? text.length : headerEnd);
  const explicit = /^\|[+-]?([1-9])|^\|([1-9])[+-]?/.exec(header);
  if (explicit !== null) {
    const parentIndent = /^ */.exec(text.slice(headerStart))?.[0].length ?? 0;
    return parentIndent + Number(explicit[1] ?? explicit[2]);
  }
  for (let line = headerLine; line < lineCounter.lineStarts.length; line++) {
    const lineStart = lineCounter.lineStarts[line] ?? 0;
    if (lineStart >= info.valueEnd) break;
    const nextStart = lineCounter.lineStarts[line + 1] ?? text.length;
    const content = text.slice(lineStart, nextStart).replace(/\r?\n$/, '');
    if (content.trim() !== '') return /^ */.exec(content)?.[0].length ?? 0;
  }
  return undefined;
}
