import type { CreatedApiKey } from '@techsapo/contracts/api-keys';
import { keys, type RedisStore } from '@techsapo/redis';
import type { ApiKeyRepository } from './api-keys.js';

/** How long one replica holds the right to mint the first admin key (others starting meanwhile do not). */
const BOOTSTRAP_LOCK_SECONDS = 60;

/**
 * The first start of a gateway with no usable admin key in Redis (and no `TECHSAPO_ADMIN_API_KEY`) mints one.
 * Returns it, for `main.ts` to show once on the terminal; null when an admin key exists, the environment
 * gives one, or another replica is minting it right now.
 */
export async function mintFirstAdminKey(
  repository: ApiKeyRepository,
  store: RedisStore,
  envAdminKey: string | undefined,
): Promise<CreatedApiKey | null> {
  if (envAdminKey !== undefined) return null;
  if (await repository.hasUsableAdmin()) return null;
  const mine = await store.set(keys.apiKeyBootstrap, String(process.pid), {
    ifAbsent: true,
    ttlSeconds: BOOTSTRAP_LOCK_SECONDS,
  });
  if (!mine) return null;
  // Another replica may have finished minting between the check above and the lock.
  if (await repository.hasUsableAdmin()) return null;
  return repository.create({ userId: 'admin', admin: true });
}

/** The terminal message that shows a minted admin key, once. */
export function adminKeyNotice(created: CreatedApiKey): string {
  return [
    '',
    'gateway: no admin API key existed, so one was made. It is shown this once and stored only as a hash:',
    '',
    `    ${created.key}`,
    '',
    `  id ${created.id}, user ${created.userId}, scopes ${created.scopes.join(',')}. Keep it in a password manager;`,
    '  use it to issue keys (POST /api/v1/admin/keys, or npm run apikey -- create <userId>).',
    `  Lost it? npm run apikey -- create admin --admin, then npm run apikey -- revoke ${created.id}.`,
    '',
  ].join('\n');
}
