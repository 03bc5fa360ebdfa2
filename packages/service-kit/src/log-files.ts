import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Config, ConfigError } from '@techsapo/config';
import { type DestinationStream, type Level, pino, type StreamEntry } from 'pino';

/** The file each service writes in `[server] log_dir`: the guide's names (`logs/techsapo.log`, ...). */
export const SERVICE_LOG_FILES: Readonly<Record<string, string>> = {
  gateway: 'techsapo.log',
  'session-service': 'techsapo.log',
  'codex-mcp-bridge': 'codex-mcp.log',
  'perf-monitor': 'performance.log',
};

/** The file every service writes its lines of level error and above to, beside its own. */
export const ERROR_LOG_FILE = 'error.log';

/**
 * The signal that makes a service reopen its log files, after logrotate renamed them. Not SIGHUP: a closing
 * terminal sends that to a foreground run, which must still stop gracefully (as on SIGTERM); not SIGUSR1:
 * Node's inspector takes it.
 */
export const REOPEN_SIGNAL = 'SIGUSR2' as const;

/** The log file of a service not in `SERVICE_LOG_FILES` (tests, tools): `<name>.log`. */
export function logFileOf(service: string): string {
  return SERVICE_LOG_FILES[service] ?? `${service}.log`;
}

/** Absolute path of the file `service` logs to, or null without `[server] log_dir` (stdout). */
export function serviceLogFile(config: Config, service: string): string | null {
  const dir = config.server.log_dir;
  return dir === undefined ? null : resolve(config.source.root, dir, logFileOf(service));
}

type SonicBoom = ReturnType<typeof pino.destination>;

/** One open log file: appends whole lines, reopens by path, drops lines once closed instead of throwing. */
class LogFile implements DestinationStream {
  private closed = false;

  constructor(
    readonly path: string,
    private readonly boom: SonicBoom,
  ) {}

  write(line: string): void {
    if (!this.closed) this.boom.write(line);
  }

  reopen(): void {
    if (!this.closed) this.boom.reopen();
  }

  flushSync(): void {
    if (this.closed) return;
    try {
      this.boom.flushSync();
    } catch {
      // The file is still being opened: what is buffered is written once it is (`end()` waits for that too).
    }
  }

  /** Resolves once every buffered line is in the file and the file is closed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flushSync();
    this.closed = true;
    return new Promise((resolve) => {
      this.boom.once('close', () => resolve());
      // A file that could not be opened has nothing to close: its error was reported already.
      this.boom.once('error', () => resolve());
      this.boom.end();
    });
  }
}

/**
 * The log files one process writes, by absolute path. Each is opened once with `O_APPEND` and written by
 * pino's sonic-boom, which hands the kernel whole lines (batches of them) per `write(2)`: processes that
 * append to the same file (techsapo.log, error.log) never interleave within a line. `reopen()` makes every
 * file be opened again by its path, so lines go to the new file once logrotate has renamed the old one;
 * lines written before that land in the renamed file (kept uncompressed one cycle by `delaycompress`).
 */
export class LogFiles {
  private readonly files = new Map<string, LogFile>();

  /**
   * The destination that appends to `path` (created with its directory), shared by everyone asking for it.
   * `sync`: each line is on disk when the call that logged it returns (for rare lines read at once, like
   * alerts); the first caller of a path chooses.
   */
  open(path: string, options: { sync?: boolean } = {}): DestinationStream {
    const absolute = resolve(path);
    let file = this.files.get(absolute);
    if (!file) {
      const sync = options.sync ?? false;
      const boom = pino.destination({ dest: absolute, append: true, mkdir: true, sync });
      // A file that cannot be (re)opened must not end the service: say so where an operator looks.
      boom.on('error', (err: Error) => process.stderr.write(`log file ${absolute}: ${err.message}\n`));
      file = new LogFile(absolute, boom);
      this.files.set(absolute, file);
    }
    return file;
  }

  /** Absolute paths of the open files. */
  get paths(): string[] {
    return [...this.files.keys()];
  }

  /** Opens every file again by its path (after a rotation). */
  reopen(): void {
    for (const file of this.files.values()) file.reopen();
  }

  /** Writes out what is buffered, synchronously. */
  flushSync(): void {
    for (const file of this.files.values()) file.flushSync();
  }

  /** Writes out what is buffered and closes every file (resolves once done); later lines are dropped. */
  async close(): Promise<void> {
    const files = [...this.files.values()];
    this.files.clear();
    await Promise.all(files.map((file) => file.close()));
  }
}

/**
 * Opens (creating) each file once, synchronously: a log directory that cannot be written stops the service at
 * boot with one line, instead of at its first log line (the files themselves are opened asynchronously).
 */
function assertWritable(paths: readonly string[], dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    for (const path of paths) closeSync(openSync(path, 'a'));
  } catch (error) {
    throw new ConfigError([`LOG_DIR / [server] log_dir: cannot write the logs in ${dir}: ${(error as Error).message}`]);
  }
}

/** Where a service's logger writes, and the files it opened for that (to reopen and close). */
export interface LogDestination {
  stream: DestinationStream;
  files: LogFiles;
}

/**
 * The destination of a service's logger: stdout when `[server] log_dir` is unset; else its own file in that
 * directory (see `SERVICE_LOG_FILES`) and, for lines of level error and above, `error.log` too, and stdout as
 * well when `[server] log_stdout`. A relative `log_dir` is taken from the project root.
 *
 * @throws ConfigError when the directory or a file in it cannot be created or written.
 */
export function logDestination(config: Config, service: string): LogDestination {
  const files = new LogFiles();
  const own = serviceLogFile(config, service);
  if (own === null) return { stream: pino.destination(1), files };
  const absolute = dirname(own);
  const errors = resolve(absolute, ERROR_LOG_FILE);
  assertWritable([own, errors], absolute);
  const entries: StreamEntry[] = [
    // The logger's own level filters; every line it lets through goes to its file.
    { level: 'trace' satisfies Level, stream: files.open(own) },
    { level: 'error' satisfies Level, stream: files.open(errors) },
  ];
  if (config.server.log_stdout) entries.push({ level: 'trace', stream: pino.destination(1) });
  return { stream: pino.multistream(entries), files };
}
