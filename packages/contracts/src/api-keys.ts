import Type, { type Static } from 'typebox';
import { TimestampSchema, UserIdSchema } from './common.js';

/** What an API key may do: `user` reaches the caller's own things, `admin` also manages keys and the bridge. */
export const ApiKeyScopeSchema = Type.Enum(['user', 'admin']);
export type ApiKeyScope = Static<typeof ApiKeyScopeSchema>;

/** An API key id (`ak_` + 16 hex digits): names a key in listings and revocations; not a credential. */
export const ApiKeyIdSchema = Type.String({ pattern: '^ak_[0-9a-f]{16}$' });

/** An API key as listed: everything but the key itself, which is stored only as a hash. */
export const ApiKeyInfoSchema = Type.Object({
  id: ApiKeyIdSchema,
  userId: UserIdSchema,
  scopes: Type.Array(ApiKeyScopeSchema),
  monthlyBudgetUsd: Type.Union([Type.Number(), Type.Null()]),
  createdAt: TimestampSchema,
  expiresAt: Type.Union([TimestampSchema, Type.Null()]),
  lastUsedAt: Type.Union([TimestampSchema, Type.Null()]),
  revokedAt: Type.Union([TimestampSchema, Type.Null()]),
});
export type ApiKeyInfo = Static<typeof ApiKeyInfoSchema>;

/** `POST /api/v1/admin/keys` body. */
export const CreateApiKeyBodySchema = Type.Object(
  {
    userId: UserIdSchema,
    admin: Type.Optional(Type.Boolean({ description: 'grant the admin scope besides user' })),
    monthlyBudgetUsd: Type.Optional(Type.Number({ minimum: 0 })),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBodySchema>;

/** A key just created: the only answer that holds the key itself. */
export const CreatedApiKeySchema = Type.Object({
  id: ApiKeyIdSchema,
  key: Type.String({ description: 'tsk_...: shown once, never stored' }),
  userId: UserIdSchema,
  scopes: Type.Array(ApiKeyScopeSchema),
  monthlyBudgetUsd: Type.Union([Type.Number(), Type.Null()]),
  expiresAt: Type.Union([TimestampSchema, Type.Null()]),
});
export type CreatedApiKey = Static<typeof CreatedApiKeySchema>;

/** `GET /api/v1/admin/keys` answer. */
export const ApiKeyListSchema = Type.Object({ items: Type.Array(ApiKeyInfoSchema) });
export type ApiKeyList = Static<typeof ApiKeyListSchema>;

/** `GET /api/v1/budget/me`: the caller's spend this UTC month against the limits that apply to it. */
export const BudgetStatusSchema = Type.Object({
  userId: UserIdSchema,
  month: Type.String({ description: 'YYYY-MM (UTC)' }),
  spentUsd: Type.Number(),
  /** Reserved for the user's costly calls still running: counted against the limits until they end. */
  reservedUsd: Type.Number(),
  /** The calling key's own monthly budget, or null when it has none. */
  keyMonthlyBudgetUsd: Type.Union([Type.Number(), Type.Null()]),
  /** `MONTHLY_BUDGET_LIMIT`: the monthly limit of the whole installation. */
  globalMonthlyLimitUsd: Type.Number(),
  /**
   * What is left of the key's budget (or, without one, of the global limit for this user's spend), once the
   * reservations are taken out.
   */
  remainingUsd: Type.Number(),
  /** `COST_ALERT_THRESHOLD`: the share of the limit at which an alert is raised. */
  alertThreshold: Type.Number(),
  status: Type.Enum(['ok', 'warning', 'exceeded']),
});
export type BudgetStatus = Static<typeof BudgetStatusSchema>;
