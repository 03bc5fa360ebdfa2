import path from 'node:path';
import type { Config } from '@techsapo/config';

/** How much harm an approved action can do: read-only, writes inside the workspace, or anything beyond. */
export type Risk = 'low' | 'medium' | 'high';
/** A risk level and the short reasons of the parts that set it (e.g. "pipes into a shell (sh)"). */
export interface Assessment { risk: Risk; reasons: string[] }
/** `[security.approval_workflows]`: `auto_approve_read_only`, `_isolated`, `_full_access`, `require_manual_approval_for_ci`. */
export type ApprovalPolicy = Config['security']['approval_workflows'];
/** What to answer Codex, or `manual` to wait for a person. */
export type Decision = 'accept' | 'decline' | 'manual';
/** One change of a `fileChange` item: `kind` flattened, or as Codex sends it (`PatchChangeKind`). */
export interface FileChangeInput {
  path: string;
  kind: 'add' | 'delete' | 'update' | { type: 'add' | 'delete' } | { type: 'update'; move_path?: string | null };
  movePath?: string | null;
}

type Part = [Risk, string];
interface Word { text: string; dynamic: boolean; quoted: boolean }
interface Simple { words: Word[]; redirects: { op: string; target: Word }[]; piped: boolean }
interface Ctx { cwd: string | null; roots: string[] }

const LEVELS: Risk[] = ['low', 'medium', 'high'];
const OPS = ['&&', '||', '|&', ';;', '<<<', '<<-', '<<', '<(', '>(', '>>', '>|', '>&', '&>>', '&>', '<&', '<>', ';', '|', '&', '(', ')', '<', '>', '\n'];
const SEPARATORS = new Set(['&&', '||', '|&', ';;', ';', '|', '&', '(', ')', '\n']);
const WRITE_REDIRECTS = new Set(['>', '>>', '>|', '&>', '&>>', '<>', '>&']);
const set = (words: string): Set<string> => new Set(words.split(' '));
const READ_ONLY = set('ls ll cat head tail grep egrep fgrep rg ag ack pwd echo printf wc which whereis type stat file tree less more du df diff cmp basename dirname realpath readlink date whoami id uname hostname true false test [ [[ jq nl od hexdump md5sum sha1sum sha256sum sha512sum cksum column ps printenv env cut tr paste rev fold tac strings seq sleep wait : export unset set read uniq sort awk gawk find sed');
const SHELLS = set('sh bash zsh dash ksh fish');
const INTERPRETERS = set('python python3 node ruby perl php deno lua');
const NETWORK = set('curl wget nc ncat netcat telnet ssh scp sftp ftp socat aria2c http https gh');
const PRIVILEGED = set('sudo su doas pkexec mount umount chroot setcap useradd userdel usermod passwd visudo systemctl service launchctl shutdown reboot halt poweroff iptables crontab docker podman kubectl');
const DESTRUCTIVE = set('dd fdisk parted wipefs mkswap kill killall pkill');
const WRITERS = set('touch mkdir rmdir rm mv tee truncate shred unlink ln cp install');
const KEYWORDS = set('! { } then do else elif if while until fi done esac');
const WRAPPERS = set('env time nice nohup command exec builtin timeout stdbuf ionice xargs');
const WRAPPER_VALUE_OPTS = set('-n -I -P -L -d -u -s -k -c -E -a');
const GIT_READ = set('status log diff show blame rev-parse ls-files ls-tree cat-file describe shortlog reflog show-ref grep help version whatchanged rev-list merge-base');
const GIT_LIST = set('branch tag remote stash worktree');
const GIT_LIST_ARGS = set('-a -r -v -vv -l --list --all --show-current list');
const GIT_NETWORK = set('push pull fetch clone ls-remote submodule');
const PUBLISH = set('publish unpublish push upload deploy login adduser');
const VERSION_FLAGS = set('--version -v -V --help -h');
const CREDENTIALS = /(^|\/)(\.ssh|\.aws|\.gnupg|\.kube|\.docker)(\/|$)|(^|\/)(\.netrc|\.pgpass|id_rsa|id_ed25519|id_ecdsa)$|^\/etc\/(shadow|gshadow|sudoers)/;
const GIT_INTERNALS = /(^|\/)\.git\/(hooks\/|config$)/;

/** Index just past the `)` that closes the `(` at `open`, skipping quoted text. */
function closeParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === "'" || c === '"') { i = s.indexOf(c, i + 1); if (i < 0) break; }
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  throw new Error('unbalanced parentheses');
}

/** Splits a shell line into simple commands (words + redirections); `subs` gets every command substitution. */
function parse(s: string): { cmds: Simple[]; subs: string[] } {
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
    if (c === '\\') { if (s[i + 1] !== '\n') add(s[i + 1] ?? '', false, true); i += 2; continue; }
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) throw new Error('unterminated quote');
      add(s.slice(i + 1, j), false, true);
      i = j + 1;
      continue;
    }
    if (c === '"') {
      for (add('', false, true), i++; i < s.length && s[i] !== '"';) {
        if (s[i] === '\\' && '"\\$`\n'.includes(s[i + 1] ?? '_')) { add(s[i + 1] ?? ''); i += 2; }
        else if (s[i] === '$' || s[i] === '`') i = dollar(i);
        else add(s[i++] ?? '');
      }
      if (i++ >= s.length) throw new Error('unterminated quote');
      continue;
    }
    if (c === '$' || c === '`') { i = dollar(i); continue; }
    if (c === ' ' || c === '\t') { end(); i++; continue; }
    if (c === '#' && !word) { while (i < s.length && s[i] !== '\n') i++; continue; }
    const op = OPS.find((o) => s.startsWith(o, i));
    if (!op) { add(c); i++; continue; }
    const fd = word as Word | null; // assigned inside closures, which narrowing does not see
    if ((c === '<' || c === '>') && fd && !fd.quoted && /^\d+$/.test(fd.text)) word = null; // `2>`: a file descriptor
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
      for (let eol = 0; eol >= 0 && i < s.length;) {
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

function where(p: Word, ctx: Ctx): 'inside' | 'outside' | 'unknown' | 'device' {
  if (p.dynamic || (ctx.cwd === null && !p.text.startsWith('/') && !p.text.startsWith('~'))) return 'unknown';
  if (p.text.startsWith('~')) return 'outside';
  const abs = path.posix.resolve(ctx.cwd ?? '/', p.text);
  if (/^\/dev\/(null|stdout|stderr|tty|fd\/\d+)$/.test(abs)) return 'device';
  return ctx.roots.some((r) => abs === r || abs.startsWith(r === '/' ? r : `${r}/`)) ? 'inside' : 'outside';
}

function touches(p: Word, ctx: Ctx, verb: string): Part {
  const at = where(p, ctx);
  if (at === 'device') return ['low', `${verb} a device (${p.text})`];
  if (at === 'unknown') return ['high', `${verb} an unresolved path: ${p.text}`];
  if (at === 'outside') return ['high', `${verb} outside the workspace: ${p.text}`];
  const abs = path.posix.resolve(ctx.cwd ?? '/', p.text);
  if (GIT_INTERNALS.test(abs)) return ['high', `${verb} git hooks or config, which run later commands: ${p.text}`];
  if (verb === 'deletes' && ctx.roots.includes(abs)) return ['high', `deletes a whole workspace root: ${p.text}`];
  return ['medium', `${verb} inside the workspace`];
}

/** Medium for tools that may write to their working directory; high when that directory is outside the roots. */
function mayWrite(what: string, ctx: Ctx): Part {
  const at = where({ text: '.', dynamic: false, quoted: false }, ctx);
  return at === 'inside' ? ['medium', `runs ${what}, which may change files`] : ['high', `runs ${what} outside the workspace`];
}

function positional(args: Word[]): Word[] {
  const dashDash = args.findIndex((a) => a.text === '--');
  const before = dashDash < 0 ? args : args.slice(0, dashDash);
  return [...before.filter((a) => !a.text.startsWith('-') || a.text === '-'), ...(dashDash < 0 ? [] : args.slice(dashDash + 1))];
}

/** The directory a `cd` leads to; null when it cannot be known (`cd`, `cd ~`, `cd -`, `cd "$X"`). */
function changeDir(target: Word | undefined, ctx: Ctx): string | null {
  if (!target || target.dynamic || target.text === '-' || target.text.startsWith('~')) return null;
  return target.text.startsWith('/') ? path.posix.resolve(target.text) : ctx.cwd === null ? null : path.posix.resolve(ctx.cwd, target.text);
}

function assessLine(line: string, ctx: Ctx, depth: number): Part[] {
  if (depth > 8) return [['high', 'nests shells too deeply to check']];
  let parsed: ReturnType<typeof parse>;
  try { parsed = parse(line); } catch { return [['high', 'cannot parse the command']]; }
  const parts = parsed.subs.flatMap((sub) => assessLine(sub, { ...ctx }, depth + 1));
  if (/\(\s*\)\s*\{/.test(line)) parts.push(['medium', 'defines a shell function']);
  for (const cmd of parsed.cmds) {
    for (const { op, target } of cmd.redirects) {
      if (CREDENTIALS.test(target.text)) parts.push(['high', `touches credentials: ${target.text}`]);
      if (WRITE_REDIRECTS.has(op) && !(op === '>&' && /^(\d+|-)$/.test(target.text))) parts.push(touches(target, ctx, 'redirects output to'));
    }
    parts.push(...assessArgv(cmd.words, ctx, cmd.piped, depth));
  }
  return parts;
}

function assessArgv(words: Word[], ctx: Ctx, piped: boolean, depth: number): Part[] {
  let argv = words;
  while (argv[0] && (/^[A-Za-z_]\w*=/.test(argv[0].text) || KEYWORDS.has(argv[0].text))) argv = argv.slice(1);
  if (['for', 'case', 'select'].includes(argv[0]?.text ?? '')) return [['low', 'loop or case header']];
  for (let name = path.posix.basename(argv[0]?.text ?? ''); WRAPPERS.has(name) && argv.length > 1; name = path.posix.basename(argv[0]?.text ?? '')) {
    if (name === 'command' && /^-[vV]$/.test(argv[1]?.text ?? '')) return [['low', 'looks up a command']];
    let k = 1;
    while (k < argv.length && ((argv[k]?.text.startsWith('-') ?? false) || (name === 'env' && /^\w+=/.test(argv[k]?.text ?? '')))) k += WRAPPER_VALUE_OPTS.has(argv[k]?.text ?? '') ? 2 : 1;
    argv = argv.slice(name === 'timeout' ? k + 1 : k);
  }
  const head = argv[0];
  if (!head) return words.length ? [['low', 'sets variables']] : [];
  if (head.dynamic) return [['high', `runs a computed command: ${head.text}`]];
  const name = path.posix.basename(head.text);
  const args = argv.slice(1);
  const plain = positional(args);
  const flags = args.filter((a) => a.text.startsWith('-')).map((a) => a.text);
  const sub = plain[0]?.text ?? '';
  const c = SHELLS.has(name) ? args.findIndex((a) => /^-[a-z]*c[a-z]*$/.test(a.text)) : -1;
  const script = c < 0 ? undefined : args[c + 1];
  if (script) return assessLine(script.text, ctx, depth + 1);
  const parts: Part[] = args.filter((a) => CREDENTIALS.test(a.text)).map((a) => ['high', `touches credentials: ${a.text}`]);
  if (SHELLS.has(name)) {
    return [...parts, piped && (sub === '' || sub === '-') ? ['high', `pipes into a shell (${name})`] : mayWrite(`a ${name} script`, ctx)];
  }
  if (INTERPRETERS.has(name) && piped && !flags.some((f) => /^-[cem]$|^--eval/.test(f)) && (sub === '' || sub === '-')) return [...parts, ['high', `pipes into an interpreter (${name})`]];
  if (name === 'eval') return [...parts, ['high', 'evaluates generated code']];
  if (name === 'source' || name === '.') return [...parts, args.some((a) => a.dynamic) ? ['high', 'sources generated code'] : mayWrite(`source ${sub}`, ctx)];
  if (NETWORK.has(name)) return [...parts, ['high', `uses the network (${name})`]];
  if (PRIVILEGED.has(name)) return [...parts, ['high', `needs privileges or changes the system (${name})`]];
  if (DESTRUCTIVE.has(name) || name.startsWith('mkfs')) return [...parts, ['high', `can destroy data or processes (${name})`]];
  if (name === 'rsync' && plain.some((a) => /^[^/\s]*:|^rsync:\/\//.test(a.text))) return [...parts, ['high', 'uses the network (rsync to a host)']];
  if (name === 'cd' || name === 'pushd') { ctx.cwd = changeDir(plain[0], ctx); return [...parts, ['low', 'changes directory']]; }
  if (name === 'chmod' || name === 'chown' || name === 'chgrp') {
    if (name === 'chmod' && /^[ugoa]*[+=][rwxXt]*s|^[2-7][0-7]{3}$/.test(sub)) return [...parts, ['high', 'sets setuid/setgid bits']];
    return [...parts, ...plain.slice(1).map((p) => touches(p, ctx, 'changes permissions of'))];
  }
  if (WRITERS.has(name) || name === 'rsync') {
    const t = args.findIndex((a) => a.text === '-t');
    const long = args.map((a) => /^--target-directory=(.+)/.exec(a.text)?.[1]).find((d) => d !== undefined);
    const dest = t >= 0 ? args[t + 1] : long === undefined ? undefined : { text: long, dynamic: false, quoted: false };
    const paths = dest ? [dest] : ['cp', 'ln', 'install', 'rsync'].includes(name) ? plain.slice(-1) : plain;
    const verb = ['rm', 'rmdir', 'unlink', 'shred'].includes(name) ? 'deletes' : name === 'mv' ? 'moves' : 'writes';
    if (name === 'tee' && paths.length === 0) return [...parts, ['low', 'reads only (tee)']];
    return [...parts, ...(paths.length ? paths.map((p) => touches(p, ctx, verb)) : [mayWrite(name, ctx)])];
  }
  if (name === 'git') return [...parts, ...assessGit(args, ctx)];
  if (name === 'sed' && flags.some((f) => /^-[^-]*i|^--in-place/.test(f))) {
    const files = flags.some((f) => /^-[^-]*[ef]|^--(expression|file)/.test(f)) ? plain : plain.slice(1);
    return [...parts, ...files.map((p) => touches(p, ctx, 'edits'))];
  }
  if (name === 'find' && args.some((a) => /^-(delete|exec|execdir|ok|okdir|fprint|fprintf|fls)$/.test(a.text))) {
    const roots = args.slice(0, Math.max(0, args.findIndex((a) => /^[-(!]/.test(a.text))));
    const start = roots[0] ?? { text: '.', dynamic: false, quoted: false };
    const found: Part[] = [['medium', 'find runs actions on what it finds']];
    args.forEach((a, k) => {
      if (a.text === '-delete') found.push(...(roots.length ? roots : [start]).map((r) => touches(r, ctx, 'deletes files under')));
      if (/^-f(print|printf|ls)$/.test(a.text) && args[k + 1]) found.push(touches(args[k + 1] as Word, ctx, 'writes'));
      if (!/^-(exec|execdir|ok|okdir)$/.test(a.text)) return;
      const stop = args.findIndex((b, j) => j > k && (b.text === ';' || b.text === '+'));
      const inner = args.slice(k + 1, stop < 0 ? undefined : stop).map((b) => (b.text === '{}' ? { ...start, text: `${start.text}/x` } : b));
      found.push(...assessArgv(inner, ctx, false, depth + 1));
    });
    return [...parts, ...found];
  }
  if (name === 'sort' && flags.some((f) => /^-o|^--output/.test(f))) return [...parts, mayWrite('sort -o', ctx)];
  if ((name === 'awk' || name === 'gawk') && /system|\||>|getline/.test(sub)) return [...parts, mayWrite(`an ${name} program that can run commands or write files`, ctx)];
  if (READ_ONLY.has(name)) return [...parts, ['low', `reads only (${name})`]];
  if (PUBLISH.has(sub)) return [...parts, ['high', `publishes or uploads (${name} ${sub})`]];
  if (['install', 'add', 'i'].includes(sub) && plain.some((a) => /^(git\+|https?:|ftp:)|:\/\//.test(a.text))) return [...parts, ['high', `installs from a URL (${name})`]];
  if (args.length === 1 && VERSION_FLAGS.has(args[0]?.text ?? '')) return [...parts, ['low', `prints version or help (${name})`]];
  const dir = args.findIndex((a) => a.text === '-C' || a.text.startsWith('--directory='));
  const at = dir < 0 ? undefined : args[dir]?.text === '-C' ? args[dir + 1] : { ...(args[dir] as Word), text: args[dir]?.text.slice(12) ?? '' };
  return [...parts, mayWrite(name, at ? { ...ctx, cwd: changeDir(at, ctx) } : ctx)]; // `make -C dir`, `tar -C dir`
}

function assessGit(args: Word[], ctx: Ctx): Part[] {
  const gctx = { ...ctx };
  let k = 0;
  for (; k < args.length && args[k]?.text.startsWith('-'); k++) {
    if (args[k]?.text === '-C') gctx.cwd = changeDir(args[++k], gctx);
    else if (args[k]?.text === '-c') k++;
  }
  const sub = args[k]?.text ?? '';
  const rest = args.slice(k + 1).map((a) => a.text);
  if (GIT_NETWORK.has(sub)) return [['high', `uses the network (git ${sub})`]];
  if (GIT_READ.has(sub) || (GIT_LIST.has(sub) && rest.every((r) => GIT_LIST_ARGS.has(r))) || (sub === 'config' && rest.some((r) => /^(--get|--list$|-l$)/.test(r)))) return [['low', `reads only (git ${sub})`]];
  return [mayWrite(`git ${sub}`, gctx)];
}

function summarize(parts: Part[]): Assessment {
  const risk = LEVELS[Math.max(0, ...parts.map(([r]) => LEVELS.indexOf(r)))] ?? 'high';
  return { risk, reasons: [...new Set(parts.filter(([r]) => r === risk).map(([, why]) => why))] };
}

/**
 * Classifies a command Codex asks to run: a shell line (`/bin/bash -lc '...'` wrappers are unwrapped) or an
 * argv array. The risk is the highest of its parts (`&&` chains, pipes, substitutions, redirections); relative
 * paths resolve against `cwd` (and later `cd`s), and "inside" means inside one of `workspaceRoots`.
 */
export function assessCommand(command: string | readonly string[], cwd: string, workspaceRoots: readonly string[]): Assessment {
  const ctx: Ctx = { cwd: path.posix.resolve(cwd), roots: workspaceRoots.map((r) => path.posix.resolve(r)) };
  const parts = typeof command === 'string'
    ? assessLine(command, ctx, 0)
    : assessArgv(command.map((text) => ({ text, dynamic: false, quoted: true })), ctx, false, 0);
  return summarize(parts.length ? parts : [['medium', 'empty command']]);
}

/**
 * Classifies a patch: adds, updates and deletions inside the roots are medium; anything outside them (or moved
 * out of them), and writes to `.git/hooks` or `.git/config`, is high. Relative paths resolve against `cwd`
 * (default: the first root).
 */
export function assessFileChanges(changes: readonly FileChangeInput[], workspaceRoots: readonly string[], cwd?: string): Assessment {
  const roots = workspaceRoots.map((r) => path.posix.resolve(r));
  const ctx: Ctx = { cwd: cwd ?? roots[0] ?? null, roots };
  const parts = changes.flatMap((change): Part[] => {
    const kind = typeof change.kind === 'string' ? change.kind : change.kind.type;
    const move = change.movePath ?? (typeof change.kind === 'object' && 'move_path' in change.kind ? change.kind.move_path : null);
    const verb = kind === 'add' ? 'adds' : kind === 'delete' ? 'deletes' : 'updates';
    const word = (text: string): Word => ({ text, dynamic: false, quoted: true });
    return [touches(word(change.path), ctx, verb), ...(move ? [touches(word(move), ctx, 'moves a file to')] : [])];
  });
  return summarize(parts.length ? parts : [['low', 'no file changes']]);
}

/**
 * low is accepted when `auto_approve_read_only`, medium when `auto_approve_isolated`, high only when
 * `auto_approve_full_access`; otherwise declined. In CI with `require_manual_approval_for_ci`, whatever is not
 * accepted automatically as low waits for a person (`manual`).
 */
export function decide(assessment: Assessment, policy: ApprovalPolicy, isCi: boolean): Decision {
  const allowed = { low: policy.auto_approve_read_only, medium: policy.auto_approve_isolated, high: policy.auto_approve_full_access }[assessment.risk];
  if (isCi && policy.require_manual_approval_for_ci && (assessment.risk !== 'low' || !allowed)) return 'manual';
  return allowed ? 'accept' : 'decline';
}
