// `npm start`: runs every built service in apps/*/dist/main.js in the foreground, against REDIS_URL
// (default redis://127.0.0.1:6379 unless Upstash is configured), with each log line prefixed by its
// service. Ctrl-C (or SIGTERM) stops them all gracefully; if one exits, the others are stopped too.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const apps = readdirSync(new URL('../apps', import.meta.url)).filter((name) => existsSync(`${root}apps/${name}/dist/main.js`));
if (apps.length === 0) {
  console.error('No built service found in apps/*/dist/main.js: run `npm run build`.');
  process.exit(1);
}
const env = { ...process.env };
if (!env.REDIS_URL && !(env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN)) env.REDIS_URL = 'redis://127.0.0.1:6379';

const width = Math.max(...apps.map((a) => a.length));
let stopping = false;
const children = apps.map((name) => {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: `${root}apps/${name}`, env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${name.padEnd(width)} | ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${name.padEnd(width)} | exited (${signal ?? code})\n`);
    if (!stopping) stop(code || 1);
  });
  return child;
});
console.log(`Started ${apps.join(', ')} (Redis: ${env.REDIS_URL ? env.REDIS_URL.replace(/\/\/[^@/]*@/, '//****@') : 'Upstash REST'}). Ctrl-C stops.`);

function stop(exitCode = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(exitCode));
}
process.on('SIGINT', () => stop());
process.on('SIGTERM', () => stop());
