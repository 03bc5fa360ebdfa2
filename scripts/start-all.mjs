// `npm start`: runs every built service in apps/*/dist/main.js in the foreground, against REDIS_URL
// (default redis://127.0.0.1:6379 unless Upstash is configured), with each log line prefixed by its
// service. Ctrl-C (or SIGTERM) stops them all gracefully. A service that cannot start (e.g. the bridge
// without Codex credentials) says why and exits; the others keep running.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const apps = readdirSync(new URL('../apps', import.meta.url)).filter((name) =>
  existsSync(`${root}apps/${name}/dist/main.js`),
);
if (apps.length === 0) {
  console.error('No built service found in apps/*/dist/main.js: run `npm run build`.');
  process.exit(1);
}
// The services read .env themselves; it is read here only to know whether Redis is configured at all.
const dotenv = existsSync(`${root}.env`) ? parseEnv(readFileSync(`${root}.env`, 'utf8')) : {};
const env = { ...process.env };
// V8 sizes its heap against the machine's memory and keeps what it grew under load: a limit makes it
// collect instead (BENCHMARKS.md, bridge memory). A NODE_OPTIONS of your own replaces it.
env.NODE_OPTIONS ??= '--max-old-space-size=256';
const configured = { ...dotenv, ...env };
if (
  !configured.REDIS_URL &&
  !(
    (configured.UPSTASH_REDIS_REST_URL ?? configured.UPSTASH_REDIS_URL) &&
    (configured.UPSTASH_REDIS_REST_TOKEN ?? configured.UPSTASH_REDIS_TOKEN)
  )
) {
  env.REDIS_URL = 'redis://127.0.0.1:6379';
}

const width = Math.max(...apps.map((a) => a.length));
let stopping = false;
const children = apps.map((name) => {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: `${root}apps/${name}`,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${name.padEnd(width)} | ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${name.padEnd(width)} | exited (${signal ?? code})\n`);
    if (!stopping && children.every((c) => c.exitCode !== null || c.signalCode !== null)) stop(1);
  });
  return child;
});
const redisUrl = env.REDIS_URL || configured.REDIS_URL;
console.log(
  `Started ${apps.join(', ')} (Redis: ${redisUrl ? redisUrl.replace(/\/\/[^@/]*@/, '//****@') : 'Upstash REST'}). Ctrl-C stops.`,
);

function stop(exitCode = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() =>
    process.exit(exitCode),
  );
}
process.on('SIGINT', () => stop());
process.on('SIGTERM', () => stop());
