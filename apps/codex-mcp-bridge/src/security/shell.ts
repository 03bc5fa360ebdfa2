/** One shell word: its text once quotes are removed; `dynamic` when it holds an expansion or substitution. */
export interface Word {
  text: string;
  dynamic: boolean;
  quoted: boolean;
}
/** One simple command: its words, its redirections, and whether it reads a pipe. */
export interface Simple {
  words: Word[];
  redirects: { op: string; target: Word }[];
  piped: boolean;
}

const OPS = [
  '&&',
  '||',
  '|&',
  ';;',
  '<<<',
  '<<-',
  '<<',
  '<(',
  '>(',
  '>>',
  '>|',
  '>&',
  '&>>',
  '&>',
  '<&',
  '<>',
  ';',
  '|',
  '&',
  '(',
  ')',
  '<',
  '>',
  '\n',
];
const SEPARATORS = new Set(['&&', '||', '|&', ';;', ';', '|', '&', '(', ')', '\n']);

/** Index just past the `)` that closes the `(` at `open`, skipping quoted text. */
function closeParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === "'" || c === '"') {
      i = s.indexOf(c, i + 1);
      if (i < 0) break;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  throw new Error('unbalanced parentheses');
}

/**
 * Splits a shell line into simple commands (words + redirections); `subs` gets every command substitution.
 * @throws Error on unbalanced quotes, backticks or parentheses.
 */
export function parse(s: string): { cmds: Simple[]; subs: string[] } {
  const cmds: Simple[] = [];
  const subs: string[] = [];
  const heredocs: Word[] = [];
  let cmd: Simple = { words: [], redirects: [], piped: false };
  let word: Word | null = null;
  let redirect: string | null = null;
  const add = (text: string, dynamic = false, quoted = false): void => {
    word ??= { text: '', dynamic: false, quoted: false };
    word.text += text;
    word.dynamic ||= dynamic;
    word.quoted ||= quoted;
  };
  const end = (): void => {
    if (word && redirect) cmd.redirects.push({ op: redirect, target: word });
    else if (word) cmd.words.push(word);
    if (word && (redirect === '<<' || redirect === '<<-')) heredocs.push(word);
    if (word) redirect = null;
    word = null;
  };
  // Substitutions stay verbatim in the word so that `bash -c "$(...)"` can be re-read when unwrapped.
  const dollar = (i: number): number => {
    const j = s[i] === '`' ? s.indexOf('`', i + 1) + 1 : s[i + 1] === '(' ? closeParen(s, i + 1) : i + 1;
    if (j === 0) throw new Error('unterminated backtick');
    if (s[i] === '`') subs.push(s.slice(i + 1, j - 1));
    else if (s[i + 1] === '(' && s[i + 2] !== '(') subs.push(s.slice(i + 2, j - 1));
    add(s.slice(i, j), true);
    return j;
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    if (c === '\\') {
      if (s[i + 1] !== '\n') add(s[i + 1] ?? '', false, true);
      i += 2;
      continue;
    }
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) throw new Error('unterminated quote');
      add(s.slice(i + 1, j), false, true);
      i = j + 1;
      continue;
    }
    if (c === '"') {
      for (add('', false, true), i++; i < s.length && s[i] !== '"'; ) {
        if (s[i] === '\\' && '"\\$`\n'.includes(s[i + 1] ?? '_')) {
          add(s[i + 1] ?? '');
          i += 2;
        } else if (s[i] === '$' || s[i] === '`') i = dollar(i);
        else add(s[i++] ?? '');
      }
      if (i++ >= s.length) throw new Error('unterminated quote');
      continue;
    }
    if (c === '$' || c === '`') {
      i = dollar(i);
      continue;
    }
    if (c === ' ' || c === '\t') {
      end();
      i++;
      continue;
    }
    if (c === '#' && !word) {
      while (i < s.length && s[i] !== '\n') i++;
      continue;
    }
    const op = OPS.find((o) => s.startsWith(o, i));
    if (!op) {
      add(c);
      i++;
      continue;
    }
    const fd = word as Word | null; // assigned inside closures, which narrowing does not see
    if ((c === '<' || c === '>') && fd && !fd.quoted && /^\d+$/.test(fd.text))
      word = null; // `2>`: a file descriptor
    else end();
    i += op.length;
    if (op === '<(' || op === '>(') {
      const j = closeParen(s, i - 1);
      subs.push(s.slice(i, j - 1));
      add(s.slice(i - 2, j), true);
      i = j;
    } else if (SEPARATORS.has(op)) {
      if (cmd.words.length || cmd.redirects.length) cmds.push(cmd);
      cmd = { words: [], redirects: [], piped: op === '|' || op === '|&' };
      redirect = null;
    } else redirect = op;
    // A here-document body is data, not commands: skip it (only its substitutions run).
    for (let doc = op === '\n' ? heredocs.shift() : undefined; doc; doc = heredocs.shift()) {
      for (let eol = 0; eol >= 0 && i < s.length; ) {
        eol = s.indexOf('\n', i);
        const line = s.slice(i, eol < 0 ? s.length : eol);
        i = eol < 0 ? s.length : eol + 1;
        if (line.replace(/^\t+/, '') === doc.text) break;
        if (!doc.quoted) for (const m of line.matchAll(/\$\(([^()]*)\)|`([^`]*)`/g)) subs.push(m[1] ?? m[2] ?? '');
      }
    }
  }
  end();
  if (cmd.words.length || cmd.redirects.length) cmds.push(cmd);
  return { cmds, subs };
}
