import type { FastifyInstance } from 'fastify';
import { JsonTooDeepError } from './errors.js';

/**
 * How deeply objects and arrays may nest in a JSON request body. Real bodies stay far below it; what handles a
 * body after parsing (`JSON.stringify` before encryption or storage, validators, serializers) recurses, and
 * overflows the stack at a few thousand levels, which a 10 KB body reaches.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Offset of the quote that closes the string opened at `start`, or -1 when it is never closed. */
function endOfString(text: string, start: number): number {
  for (let at = start; ; ) {
    at = text.indexOf('"', at + 1);
    if (at < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

/** The object key whose string literal opens at `start`, unescaped (as written, if the escapes are broken). */
function keyAt(text: string, start: number): string {
  const literal = text.slice(start, endOfString(text, start) + 1);
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal.slice(1, -1);
  }
}

/** A JSON Pointer segment, escaped as validation errors write them (`~` as `~0`, `/` as `~1`). */
const pointerSegment = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Where JSON `text` nests objects and arrays deeper than `maxDepth`: the path of the first value that crosses
 * the limit, as a JSON Pointer (`/data/a/0`), or undefined when the text stays within it.
 *
 * One pass over the text, without parsing it and without recursion, so that it is safe on any input and costs
 * little next to `JSON.parse`; it only tracks the enclosing key or index of at most `maxDepth` levels, and reads
 * the keys back only to name the path. It does not validate: malformed JSON is left to the parser.
 */
export function findDeepNesting(text: string, maxDepth: number = MAX_JSON_DEPTH): string | undefined {
  // Per level (1-based): is it an array, and where are we in it: the element index in an array, the offset of
  // the current key's opening quote in an object (-1 before the first key).
  const isArray = new Uint8Array(maxDepth + 1);
  const position = new Int32Array(maxDepth + 1);
  let depth = 0;
  let expectKey = false;
  for (let at = 0; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) {
      if (expectKey) position[depth] = at;
      expectKey = false;
      at = endOfString(text, at);
      if (at < 0) return undefined;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === maxDepth) return pathOf(text, depth, isArray, position);
      depth++;
      isArray[depth] = c === OPEN_ARRAY ? 1 : 0;
      position[depth] = c === OPEN_ARRAY ? 0 : -1;
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--;
      expectKey = false;
    } else if (c === COMMA && depth > 0) {
      if (isArray[depth]) position[depth]!++;
      else expectKey = true;
    }
  }
  return undefined;
}

function pathOf(text: string, depth: number, isArray: Uint8Array, position: Int32Array): string {
  let path = '';
  for (let level = 1; level <= depth; level++) {
    const at = position[level]!;
    const segment = isArray[level] ? String(at) : at < 0 ? '' : keyAt(text, at);
    path += `/${pointerSegment(segment)}`;
  }
  return path;
}

/**
 * Replaces Fastify's `application/json` parser with one that first refuses bodies nested deeper than
 * `MAX_JSON_DEPTH` (400 `JSON_TOO_DEEP`, naming the path), then parses exactly as Fastify does (prototype
 * poisoning refused, empty and malformed bodies 400). Registered once by `createService`, for every route.
 */
export function useBoundedJsonParser(app: FastifyInstance, maxDepth: number = MAX_JSON_DEPTH): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string; // parseAs: 'string'
    const deep = findDeepNesting(text, maxDepth);
    if (deep !== undefined) return done(new JsonTooDeepError(`body${deep}`, maxDepth), undefined);
    parse(request, text, done);
  });
}
