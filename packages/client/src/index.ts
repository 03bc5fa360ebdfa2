import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

/** How to reach a TechSapo gateway. */
export interface TechSapoClientOptions {
  /** Where the gateway answers, e.g. `http://localhost:4000` (the paths carry `/api/v1/...`). */
  baseUrl: string;
  /** An API key (`tsk_...`), sent as `Authorization: Bearer <key>` with every request; none for `/health`. */
  apiKey?: string;
  /** Headers sent with every request besides the key (a request's own headers come on top). */
  headers?: Record<string, string>;
  /** The fetch to send requests with (a proxy agent, a test double); default: the global `fetch`. */
  fetch?: ClientOptions['fetch'];
}

/** A typed client of the gateway: `client.GET('/api/v1/sessions/{id}', { params: { path: { id } } })`. */
export type TechSapoClient = Client<paths>;

/**
 * An openapi-fetch client of the gateway's API with the key in every request. Each call resolves to
 * `{ data, error, response }`: `data` typed by the route's success answer, `error` by its error answers
 * (`ErrorBody`), never a throw for an HTTP status.
 */
export function createTechSapoClient(options: TechSapoClientOptions): TechSapoClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** The JSON an operation answers with `status`. */
export type AnswerOf<
  Operation extends keyof operations,
  Status extends keyof operations[Operation]['responses'],
> = operations[Operation]['responses'][Status] extends { content: { 'application/json': infer Body } } ? Body : never;

/** The one error body of every TechSapo service: `{ error: { code, message, details? } }`. */
export type ErrorBody = components['schemas']['ErrorBody'];
/** A session, with its data. */
export type Session = AnswerOf<'getSession', 200>;
/** A page of the caller's sessions (`nextCursor` is null on the last page). */
export type SessionPage = AnswerOf<'listSessions', 200>;
/** The caller's spend for a day or a month. */
export type CostSummary = AnswerOf<'getMyCosts', 200>;
/** The caller's spend this month against the limits that apply to it. */
export type BudgetStatus = AnswerOf<'getMyBudget', 200>;
/** A key just issued: the only answer that holds the key itself. */
export type CreatedApiKey = AnswerOf<'createApiKey', 201>;
/** An API key as listed, without the key. */
export type ApiKeyInfo = AnswerOf<'listApiKeys', 200>['items'][number];
