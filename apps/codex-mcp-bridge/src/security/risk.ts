import path from 'node:path';
import type { Config } from '@techsapo/config';
import { parse, type Word } from './shell.js';

/** How much harm an approved action can do: read-only, writes inside the workspace, or anything beyond. */
export type Risk = 'low' | 'medium' | 'high';
/** A risk level and the short reasons of the parts that set it (e.g. "pipes into a shell (sh)"). */
export interface Assessment {
  risk: Risk;
  reasons: string[];
}
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
interface Ctx {
  cwd: string | null;
  roots: string[];
  codexHome: string | null;
}
/** Options of `assessCommand`. */
export interface CommandContext {
  /** Codex's home (auth, config, every thread's history): reading it is high risk wherever it is. */
  codexHome?: string | undefined;
}

const LEVELS: Risk[] = ['low', 'medium', 'high'];
const WRITE_REDIRECTS = new Set(['>', '>>', '>|', '&>', '&>>', '<>', '>&']);
const set = (words: string): Set<string> => new Set(words.split(' '));
const READ_ONLY = set(
  'ls ll cat head tail grep egrep fgrep rg ag ack pwd echo printf wc which whereis type stat file tree less more du df diff cmp basename dirname realpath readlink date whoami id uname hostname true false test [ [[ jq yq nl od hexdump xxd base64 base32 comm join md5sum sha1sum sha256sum sha512sum cksum column ps printenv env cut tr paste rev fold tac strings seq sleep wait : export unset set read uniq sort awk gawk find sed',
);
/** Programs that print what is in the files they are given (not just names, sizes or hashes). */
const READERS = set(
  'cat tac head tail less more nl od hexdump xxd strings base64 base32 grep egrep fgrep rg ag ack ' +
    'cut paste sort uniq comm join awk gawk sed jq yq diff cmp column fold rev',
);
/** Readers whose first operand is a pattern or a program unless `-e`/`-f` gives it. */
const PATTERN_FIRST = set('grep egrep fgrep rg ag ack sed awk gawk jq yq');
/** Options of each reader that take a value which is not a file (`head -n 20`, `cut -d :`, `grep -e PATTERN`). */
const GREP_VALUES = '-e -m -A -B -C -d -D --regexp --max-count --context --after-context --before-context';
const VALUE_OPTIONS: Record<string, Set<string>> = Object.fromEntries(
  Object.entries({
    head: '-n -c',
    tail: '-n -c',
    cut: '-d -f -c -b',
    sort: '-t -k -S -T',
    uniq: '-f -s -w',
    join: '-t -j -1 -2 -o',
    paste: '-d',
    column: '-s -c -o',
    fold: '-w',
    nl: '-s -w -b -v -i',
    od: '-A -t -N -j',
    hexdump: '-n -s -e',
    xxd: '-l -s -c -g',
    strings: '-n -t',
    base64: '-w',
    base32: '-w',
    diff: '-U -C',
    grep: GREP_VALUES,
    egrep: GREP_VALUES,
    fgrep: GREP_VALUES,
    rg: '-e -g -t -T -m -A -B -C -M -j --regexp --glob --type --max-count',
    ag: '-A -B -C -m -G',
    ack: '-A -B -C -m',
    sed: '-e -l',
    awk: '-F -v',
    gawk: '-F -v',
    jq: '--arg --argjson --slurpfile --rawfile --indent',
    yq: '--arg --indent',
  }).map(([name, options]) => [name, set(options)]),
);
/** Variables whose values are not secrets: `printenv PATH` stays low. */
const PLAIN_VARIABLES =
  /^(PATH|HOME|USER|LOGNAME|SHELL|PWD|OLDPWD|LANG|LANGUAGE|LC_[A-Z]+|TERM|TZ|TMPDIR|HOSTNAME|EDITOR|PAGER|SHLVL|COLUMNS|LINES|NODE_ENV|CI)$/;
const SHELLS = set('sh bash zsh dash ksh fish');
const INTERPRETERS = set('python python3 node ruby perl php deno lua');
const NETWORK = set('curl wget nc ncat netcat telnet ssh scp sftp ftp socat aria2c http https gh');
const PRIVILEGED = set(
  'sudo su doas pkexec mount umount chroot setcap useradd userdel usermod passwd visudo systemctl service launchctl shutdown reboot halt poweroff iptables crontab docker podman kubectl',
);
const DESTRUCTIVE = set('dd fdisk parted wipefs mkswap kill killall pkill');
const WRITERS = set('touch mkdir rmdir rm mv tee truncate shred unlink ln cp install');
const KEYWORDS = set('! { } then do else elif if while until fi done esac');
const WRAPPERS = set('env time nice nohup command exec builtin timeout stdbuf ionice xargs');
const WRAPPER_VALUE_OPTS = set('-n -I -P -L -d -u -s -k -c -E -a');
const GIT_READ = set(
  'status log diff show blame rev-parse ls-files ls-tree cat-file describe shortlog reflog show-ref grep help version whatchanged rev-list merge-base',
);
const GIT_LIST = set('branch tag remote stash worktree');
const GIT_LIST_ARGS = set('-a -r -v -vv -l --list --all --show-current list');
const GIT_NETWORK = set('push pull fetch clone ls-remote submodule');
const PUBLISH = set('publish unpublish push upload deploy login adduser');
const VERSION_FLAGS = set('--version -v -V --help -h');
const CREDENTIALS =
  /(^|\/)(\.ssh|\.aws|\.gnupg|\.kube|\.docker)(\/|$)|(^|\/)(\.netrc|\.pgpass|id_rsa|id_ed25519|id_ecdsa)$|^\/etc\/(shadow|gshadow|sudoers)/;
const GIT_INTERNALS = /(^|\/)\.git\/(hooks\/|config$)/;
/** Another process's environment, command line, memory or files, as /proc shows them (`/proc/<pid>/environ`). */
const PROC_SECRETS =
  /\/proc\/[^/\s]*\/(?:task\/[^/\s]*\/)?(?:environ|cmdline|mem|auxv|root|cwd|fd|fdinfo|map_files)(?![\w-])/;

function where(p: Word, ctx: Ctx): 'inside' | 'outside' | 'unknown' | 'device' {
  if (p.dynamic || (ctx.cwd === null && !p.text.startsWith('/') && !p.text.startsWith('~'))) return 'unknown';
  if (p.text.startsWith('~')) return 'outside';
  const abs = path.posix.resolve(ctx.cwd ?? '/', p.text);
  if (/^\/dev\/(null|zero|u?random|stdin|stdout|stderr|tty|fd\/\d+)$/.test(abs)) return 'device';
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

/** Why a word names a secret wherever it is (credentials, a process's environment, Codex's home), if it does. */
function secretTarget(p: Word, ctx: Ctx): string | undefined {
  if (CREDENTIALS.test(p.text)) return `touches credentials: ${p.text}`;
  if (PROC_SECRETS.test(p.text)) return `reads a process's environment or memory: ${p.text}`;
  if (/\$\{?CODEX_HOME\b/.test(p.text)) return `touches Codex's home (its auth and every thread): ${p.text}`;
  if (p.dynamic || (ctx.cwd === null && !p.text.startsWith('/'))) return undefined;
  const abs = path.posix.resolve(ctx.cwd ?? '/', p.text);
  if (abs !== p.text && (CREDENTIALS.test(abs) || PROC_SECRETS.test(abs))) {
    return `touches credentials or a process's environment: ${p.text}`;
  }
  const home = ctx.codexHome;
  const inHome = home !== null && (abs === home || abs.startsWith(`${home}/`));
  return inHome ? `touches Codex's home (its auth and every thread): ${p.text}` : undefined;
}

/** High for a read outside the roots or of a path that cannot be resolved; nothing for a read inside. */
function reads(p: Word, ctx: Ctx, verb = 'reads'): Part[] {
  const at = where(p, ctx);
  if (at === 'unknown') return [['high', `${verb} an unresolved path: ${p.text}`]];
  if (at === 'outside') return [['high', `${verb} outside the workspace: ${p.text}`]];
  return [];
}

/** The files a reader prints: its operands, less a leading pattern or program and the values of its options. */
function readTargets(name: string, args: Word[]): Word[] {
  const files: Word[] = [];
  let programGiven = false;
  let options = true;
  for (let k = 0; k < args.length; k++) {
    const a = args[k] as Word;
    if (options && a.text === '--') {
      options = false;
      continue;
    }
    if (!options || !a.text.startsWith('-') || a.text === '-') {
      if (a.text !== '-') files.push(a);
      continue;
    }
    if (/^-[ef]$|^--(regexp|file|expression|from-file)(=|$)/.test(a.text)) programGiven = true;
    if (VALUE_OPTIONS[name]?.has(a.text)) k += /^--arg/.test(a.text) ? 2 : 1;
    const value = /^--?[\w-]+=(.+)$/.exec(a.text)?.[1];
    if (value !== undefined && /^[/~]/.test(value)) files.push({ ...a, text: value });
  }
  const listsFiles = name === 'rg' && args.some((a) => a.text === '--files');
  return PATTERN_FIRST.has(name) && !programGiven && !listsFiles ? files.slice(1) : files;
}

/** `printenv`, `env`, `set`, `export -p`, `declare -p`: what prints the environment (or names a secret in it). */
function printsEnvironment(name: string, args: Word[], plain: Word[]): Part | undefined {
  const flags = args.filter((a) => a.text.startsWith('-')).map((a) => a.text);
  const secretNames = plain.filter((a) => a.dynamic || !PLAIN_VARIABLES.test(a.text)).map((a) => a.text);
  if (name === 'env' || (name === 'printenv' && plain.length === 0)) {
    return ['high', `prints the whole environment (${name}), which may hold credentials`];
  }
  if (name === 'printenv') {
    if (!secretNames.length) return undefined;
    return ['high', `prints environment variables that may hold credentials: ${secretNames.join(' ')}`];
  }
  if (name === 'set' && args.length === 0) return ['high', 'prints every shell variable (set)'];
  if (['export', 'declare', 'typeset', 'readonly'].includes(name)) {
    const functionsOnly = flags.length > 0 && flags.every((f) => /^-[fF]+$/.test(f));
    if (plain.length === 0 && !functionsOnly) return ['high', `prints shell variables (${[name, ...flags].join(' ')})`];
    const printing = name !== 'export' && flags.some((f) => /^-\w*p/.test(f));
    if (printing && secretNames.length) return ['high', `prints shell variables (${name} -p)`];
  }
  const withEnvironments = (a: Word): boolean => /^[a-zA-Z]*e[a-zA-Z]*$/.test(a.text) || /environ/.test(a.text);
  if (name === 'ps' && args.some(withEnvironments)) return ['high', 'prints the environments of processes (ps e)'];
  return undefined;
}

/** Medium for tools that may write to their working directory; high when that directory is outside the roots. */
function mayWrite(what: string, ctx: Ctx): Part {
  const at = where({ text: '.', dynamic: false, quoted: false }, ctx);
  return at === 'inside'
    ? ['medium', `runs ${what}, which may change files`]
    : ['high', `runs ${what} outside the workspace`];
}

function positional(args: Word[]): Word[] {
  const dashDash = args.findIndex((a) => a.text === '--');
  const before = dashDash < 0 ? args : args.slice(0, dashDash);
  return [
    ...before.filter((a) => !a.text.startsWith('-') || a.text === '-'),
    ...(dashDash < 0 ? [] : args.slice(dashDash + 1)),
  ];
}

/** The directory a `cd` leads to; null when it cannot be known (`cd`, `cd ~`, `cd -`, `cd "$X"`). */
function changeDir(target: Word | undefined, ctx: Ctx): string | null {
  if (!target || target.dynamic || target.text === '-' || target.text.startsWith('~')) return null;
  return target.text.startsWith('/')
    ? path.posix.resolve(target.text)
    : ctx.cwd === null
      ? null
      : path.posix.resolve(ctx.cwd, target.text);
}

function assessLine(line: string, ctx: Ctx, depth: number): Part[] {
  if (depth > 8) return [['high', 'nests shells too deeply to check']];
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(line);
  } catch {
    return [['high', 'cannot parse the command']];
  }
  const parts = parsed.subs.flatMap((sub) => assessLine(sub, { ...ctx }, depth + 1));
  if (/\(\s*\)\s*\{/.test(line)) parts.push(['medium', 'defines a shell function']);
  for (const cmd of parsed.cmds) {
    for (const { op, target } of cmd.redirects) {
      const secret = secretTarget(target, ctx);
      if (secret) parts.push(['high', secret]);
      if (op === '<') parts.push(...reads(target, ctx));
      if (WRITE_REDIRECTS.has(op) && !(op === '>&' && /^(\d+|-)$/.test(target.text)))
        parts.push(touches(target, ctx, 'redirects output to'));
    }
    parts.push(...assessArgv(cmd.words, ctx, cmd.piped, depth));
  }
  return parts;
}

function assessArgv(words: Word[], ctx: Ctx, piped: boolean, depth: number): Part[] {
  let argv = words;
  while (argv[0] && (/^[A-Za-z_]\w*=/.test(argv[0].text) || KEYWORDS.has(argv[0].text))) argv = argv.slice(1);
  if (['for', 'case', 'select'].includes(argv[0]?.text ?? '')) return [['low', 'loop or case header']];
  const wrappers: string[] = [];
  for (
    let name = path.posix.basename(argv[0]?.text ?? '');
    WRAPPERS.has(name) && argv.length > 1;
    name = path.posix.basename(argv[0]?.text ?? '')
  ) {
    if (name === 'command' && /^-[vV]$/.test(argv[1]?.text ?? '')) return [['low', 'looks up a command']];
    wrappers.push(name);
    let k = 1;
    while (
      k < argv.length &&
      ((argv[k]?.text.startsWith('-') ?? false) || (name === 'env' && /^\w+=/.test(argv[k]?.text ?? '')))
    )
      k += WRAPPER_VALUE_OPTS.has(argv[k]?.text ?? '') ? 2 : 1;
    argv = argv.slice(name === 'timeout' ? k + 1 : k);
  }
  const head = argv[0];
  if (!head && wrappers.at(-1) === 'env') return [printsEnvironment('env', [], []) as Part];
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
  const parts: Part[] = args.flatMap((a): Part[] => {
    const why = secretTarget(a, ctx);
    return why ? [['high', why]] : [];
  });
  const dump = printsEnvironment(name, args, plain);
  if (dump) parts.push(dump);
  if (READERS.has(name)) {
    parts.push(...readTargets(name, args).flatMap((p) => reads(p, ctx)));
    if (wrappers.includes('xargs')) parts.push(['medium', `reads files named by its input (xargs ${name})`]);
  }
  if (SHELLS.has(name)) {
    return [
      ...parts,
      piped && (sub === '' || sub === '-')
        ? ['high', `pipes into a shell (${name})`]
        : mayWrite(`a ${name} script`, ctx),
    ];
  }
  if (INTERPRETERS.has(name) && piped && !flags.some((f) => /^-[cem]$|^--eval/.test(f)) && (sub === '' || sub === '-'))
    return [...parts, ['high', `pipes into an interpreter (${name})`]];
  if (name === 'eval') return [...parts, ['high', 'evaluates generated code']];
  if (name === 'source' || name === '.') {
    const sourced = plain[0] ? reads(plain[0], ctx, 'sources') : [];
    return [
      ...parts,
      ...sourced,
      args.some((a) => a.dynamic) ? ['high', 'sources generated code'] : mayWrite(`source ${sub}`, ctx),
    ];
  }
  if (NETWORK.has(name)) return [...parts, ['high', `uses the network (${name})`]];
  if (PRIVILEGED.has(name)) return [...parts, ['high', `needs privileges or changes the system (${name})`]];
  if (DESTRUCTIVE.has(name) || name.startsWith('mkfs'))
    return [...parts, ['high', `can destroy data or processes (${name})`]];
  if (name === 'rsync' && plain.some((a) => /^[^/\s]*:|^rsync:\/\//.test(a.text)))
    return [...parts, ['high', 'uses the network (rsync to a host)']];
  if (name === 'cd' || name === 'pushd') {
    ctx.cwd = changeDir(plain[0], ctx);
    return [...parts, ['low', 'changes directory']];
  }
  if (name === 'chmod' || name === 'chown' || name === 'chgrp') {
    if (name === 'chmod' && /^[ugoa]*[+=][rwxXt]*s|^[2-7][0-7]{3}$/.test(sub))
      return [...parts, ['high', 'sets setuid/setgid bits']];
    return [...parts, ...plain.slice(1).map((p) => touches(p, ctx, 'changes permissions of'))];
  }
  if (WRITERS.has(name) || name === 'rsync') {
    const t = args.findIndex((a) => a.text === '-t');
    const long = args.map((a) => /^--target-directory=(.+)/.exec(a.text)?.[1]).find((d) => d !== undefined);
    const dest = t >= 0 ? args[t + 1] : long === undefined ? undefined : { text: long, dynamic: false, quoted: false };
    const paths = dest ? [dest] : ['cp', 'ln', 'install', 'rsync'].includes(name) ? plain.slice(-1) : plain;
    const verb = ['rm', 'rmdir', 'unlink', 'shred'].includes(name) ? 'deletes' : name === 'mv' ? 'moves' : 'writes';
    if (name === 'tee' && paths.length === 0) return [...parts, ['low', 'reads only (tee)']];
    if (['cp', 'install', 'rsync', 'ln'].includes(name)) {
      const sources = dest ? plain.filter((p) => p !== dest) : plain.slice(0, -1);
      parts.push(...sources.flatMap((p) => reads(p, ctx, name === 'ln' ? 'links to' : 'copies from')));
    }
    return [...parts, ...(paths.length ? paths.map((p) => touches(p, ctx, verb)) : [mayWrite(name, ctx)])];
  }
  if (name === 'git') return [...parts, ...assessGit(args, ctx)];
  if (name === 'sed' && flags.some((f) => /^-[^-]*i|^--in-place/.test(f))) {
    const files = flags.some((f) => /^-[^-]*[ef]|^--(expression|file)/.test(f)) ? plain : plain.slice(1);
    return [...parts, ...files.map((p) => touches(p, ctx, 'edits'))];
  }
  if (name === 'find' && args.some((a) => /^-(delete|exec|execdir|ok|okdir|fprint|fprintf|fls)$/.test(a.text))) {
    const roots = args.slice(
      0,
      Math.max(
        0,
        args.findIndex((a) => /^[-(!]/.test(a.text)),
      ),
    );
    const start = roots[0] ?? { text: '.', dynamic: false, quoted: false };
    const found: Part[] = [['medium', 'find runs actions on what it finds']];
    args.forEach((a, k) => {
      if (a.text === '-delete')
        found.push(...(roots.length ? roots : [start]).map((r) => touches(r, ctx, 'deletes files under')));
      if (/^-f(print|printf|ls)$/.test(a.text) && args[k + 1]) found.push(touches(args[k + 1] as Word, ctx, 'writes'));
      if (!/^-(exec|execdir|ok|okdir)$/.test(a.text)) return;
      const stop = args.findIndex((b, j) => j > k && (b.text === ';' || b.text === '+'));
      const inner = args
        .slice(k + 1, stop < 0 ? undefined : stop)
        .map((b) => (b.text === '{}' ? { ...start, text: `${start.text}/x` } : b));
      found.push(...assessArgv(inner, ctx, false, depth + 1));
    });
    return [...parts, ...found];
  }
  if (name === 'sort' && flags.some((f) => /^-o|^--output/.test(f))) return [...parts, mayWrite('sort -o', ctx)];
  if ((name === 'awk' || name === 'gawk') && /system|\||>|getline/.test(sub))
    return [...parts, mayWrite(`an ${name} program that can run commands or write files`, ctx)];
  if (READ_ONLY.has(name)) return [...parts, ['low', `reads only (${name})`]];
  if (PUBLISH.has(sub)) return [...parts, ['high', `publishes or uploads (${name} ${sub})`]];
  if (['install', 'add', 'i'].includes(sub) && plain.some((a) => /^(git\+|https?:|ftp:)|:\/\//.test(a.text)))
    return [...parts, ['high', `installs from a URL (${name})`]];
  if (args.length === 1 && VERSION_FLAGS.has(args[0]?.text ?? ''))
    return [...parts, ['low', `prints version or help (${name})`]];
  const dir = args.findIndex((a) => a.text === '-C' || a.text.startsWith('--directory='));
  const at =
    dir < 0
      ? undefined
      : args[dir]?.text === '-C'
        ? args[dir + 1]
        : { ...(args[dir] as Word), text: args[dir]?.text.slice(12) ?? '' };
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
  if (
    GIT_READ.has(sub) ||
    (GIT_LIST.has(sub) && rest.every((r) => GIT_LIST_ARGS.has(r))) ||
    (sub === 'config' && rest.some((r) => /^(--get|--list$|-l$)/.test(r)))
  )
    return [['low', `reads only (git ${sub})`]];
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
export function assessCommand(
  command: string | readonly string[],
  cwd: string,
  workspaceRoots: readonly string[],
  options: CommandContext = {},
): Assessment {
  const ctx: Ctx = {
    cwd: path.posix.resolve(cwd),
    roots: workspaceRoots.map((r) => path.posix.resolve(r)),
    codexHome: options.codexHome ? path.posix.resolve(options.codexHome) : null,
  };
  const parts =
    typeof command === 'string'
      ? assessLine(command, ctx, 0)
      : assessArgv(
          command.map((text) => ({ text, dynamic: false, quoted: true })),
          ctx,
          false,
          0,
        );
  return summarize(parts.length ? parts : [['medium', 'empty command']]);
}

/**
 * Classifies a patch: adds, updates and deletions inside the roots are medium; anything outside them (or moved
 * out of them), and writes to `.git/hooks` or `.git/config`, is high. Relative paths resolve against `cwd`
 * (default: the first root).
 */
export function assessFileChanges(
  changes: readonly FileChangeInput[],
  workspaceRoots: readonly string[],
  cwd?: string,
): Assessment {
  const roots = workspaceRoots.map((r) => path.posix.resolve(r));
  const ctx: Ctx = { cwd: cwd ?? roots[0] ?? null, roots, codexHome: null };
  const parts = changes.flatMap((change): Part[] => {
    const kind = typeof change.kind === 'string' ? change.kind : change.kind.type;
    const move =
      change.movePath ?? (typeof change.kind === 'object' && 'move_path' in change.kind ? change.kind.move_path : null);
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
  const allowed = {
    low: policy.auto_approve_read_only,
    medium: policy.auto_approve_isolated,
    high: policy.auto_approve_full_access,
  }[assessment.risk];
  if (isCi && policy.require_manual_approval_for_ci && (assessment.risk !== 'low' || !allowed)) return 'manual';
  return allowed ? 'accept' : 'decline';
}
