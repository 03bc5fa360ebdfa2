// Runs before `npm test` and `npm run bench`: stops at once, saying what to install, when the machine lacks
// something the tests need (they start their own redis-server on a free port).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const problems = [];
const [major, minor] = process.versions.node.split('.').map(Number);
// `npm ci` installs Node 24 (the root devDependency `node`) and npm scripts put it first on PATH.
if (major < 24 || (major === 24 && minor < 11)) {
  problems.push(
    `Node ${process.versions.node} is too old: run through npm scripts after \`npm ci\` (they use the pinned Node 24), or install Node 24 LTS.`,
  );
}
if (!existsSync(new URL('../node_modules/.bin/turbo', import.meta.url)))
  problems.push('Dependencies are not installed: run `npm ci` first.');
const redisBin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const redisCli = process.env.REDIS_CLI_BIN ?? 'redis-cli';
for (const bin of [redisBin, redisCli]) {
  if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status !== 0) {
    problems.push(
      `No \`${bin}\` on PATH: the tests start their own Redis servers and a three-master Redis Cluster (Debian/Ubuntu: \`sudo apt-get install -y redis-server\`, which brings redis-cli; macOS: \`brew install redis\`).`,
    );
  }
}
if (spawnSync('logrotate', ['--version'], { stdio: 'ignore' }).status !== 0) {
  problems.push(
    'No `logrotate` on PATH: docs/logrotate/techsapo is tested with it (Debian/Ubuntu: `sudo apt-get install -y logrotate`).',
  );
}
const promtool = process.env.PROMTOOL_BIN ?? 'promtool';
if (spawnSync(promtool, ['--version'], { stdio: 'ignore' }).status !== 0) {
  problems.push(
    `No \`${promtool}\` on PATH: the Prometheus rules are tested with it (Debian/Ubuntu: \`sudo apt-get install --no-install-recommends prometheus\`).`,
  );
}
if (spawnSync('jq', ['--version'], { stdio: 'ignore' }).status !== 0) {
  problems.push(
    "No `jq` on PATH: the guide's monitoring pipelines are tested with it (Debian/Ubuntu: `sudo apt-get install -y jq`).",
  );
}
if (problems.length) {
  console.error(`Cannot run the tests yet:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`Running on Node ${process.versions.node}`);
