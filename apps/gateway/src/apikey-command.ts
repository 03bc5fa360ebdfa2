import { parseArgs } from 'node:util';
import type { ApiKeyInfo } from '@techsapo/contracts/api-keys';
import { ANONYMOUS } from '@techsapo/service-kit';
import type { ApiKeyRepository } from './api-keys.js';

const USAGE = `usage: npm run apikey -- <command>
  create <userId> [--admin] [--monthly-budget-usd N] [--expires-in 30d|12h] [--json]
  list [--json]
  revoke <id>`;

/** Where the command writes: stdout for results, stderr for problems. */
export interface CommandOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const USER_ID = /^[A-Za-z0-9._@+-]{1,128}$/;

/** `30d` or `12h` as days; null when it is neither. */
function parseDuration(text: string): number | null {
  const match = /^(\d+)([dh])$/.exec(text);
  if (!match || Number(match[1]) === 0) return null;
  return match[2] === 'd' ? Number(match[1]) : Number(match[1]) / 24;
}

function table(items: ApiKeyInfo[]): string {
  const rows = items.map((key) => [
    key.id,
    key.userId,
    key.scopes.join(','),
    key.monthlyBudgetUsd === null ? '-' : `$${key.monthlyBudgetUsd}`,
    key.createdAt,
    key.expiresAt ?? '-',
    key.lastUsedAt ?? '-',
    key.revokedAt ? `revoked ${key.revokedAt}` : 'active',
  ]);
  const header = ['id', 'user', 'scopes', 'budget/month', 'created', 'expires', 'last used', 'state'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * `npm run apikey -- create|list|revoke ...` against `keys`. Returns the exit status: 0 done, 1 not found,
 * 2 bad usage (with the usage on stderr).
 */
export async function runApiKeyCommand(argv: string[], keys: ApiKeyRepository, output: CommandOutput): Promise<number> {
  const usage = (problem: string): number => {
    output.err(`apikey: ${problem}\n${USAGE}`);
    return 2;
  };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  switch (command) {
    case 'create': {
      const [userId] = rest;
      if (!userId || !USER_ID.test(userId) || rest.length > 1) {
        return usage('create needs one userId (A-Z a-z 0-9 . _ @ + -)');
      }
      if (userId === ANONYMOUS) return usage(`userId ${ANONYMOUS} is reserved: the services read it as "no user"`);
      const budget = values['monthly-budget-usd'];
      const monthlyBudgetUsd = budget === undefined ? undefined : Number(budget);
      if (monthlyBudgetUsd !== undefined && !(Number.isFinite(monthlyBudgetUsd) && monthlyBudgetUsd >= 0)) {
        return usage('--monthly-budget-usd must be a number >= 0');
      }
      const expires = values['expires-in'];
      const expiresInDays = expires === undefined ? undefined : parseDuration(expires);
      if (expiresInDays === null) return usage('--expires-in must look like 30d or 12h');
      const created = await keys.create({ userId, admin: values.admin, monthlyBudgetUsd, expiresInDays });
      if (values.json) {
        output.out(JSON.stringify(created));
      } else {
        output.out(
          [
            created.key,
            `id ${created.id}, user ${created.userId}, scopes ${created.scopes.join(',')}, ` +
              `budget ${created.monthlyBudgetUsd ?? 'none'}, expires ${created.expiresAt ?? 'never'}`,
            'The key is shown only now: it is stored as a hash.',
          ].join('\n'),
        );
      }
      return 0;
    }
    case 'list': {
      const items = await keys.list();
      output.out(values.json ? JSON.stringify({ items }) : items.length ? table(items) : 'no API keys');
      return 0;
    }
    case 'revoke': {
      const [id] = rest;
      if (!id || rest.length > 1) return usage('revoke needs one key id (ak_...)');
      if (!(await keys.revoke(id))) {
        output.err(`apikey: no API key ${id}`);
        return 1;
      }
      output.out(`revoked ${id}`);
      return 0;
    }
    default:
      return usage(command ? `unknown command ${command}` : 'no command');
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      admin: { type: 'boolean', default: false },
      'monthly-budget-usd': { type: 'string' },
      'expires-in': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
}
