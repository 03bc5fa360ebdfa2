import {
  CodexRunSchema,
  CreateCodexRunBodySchema,
  CreatedCodexRunSchema,
  JobIdSchema,
  WaitQuerySchema,
} from '@techsapo/contracts/codex-runs';
import { ErrorBodySchema, IdempotencyHeadersSchema } from '@techsapo/contracts/common';
import Type from 'typebox';

const tags = ['codex'];
const IdParams = Type.Object({ id: JobIdSchema });
/** Every route behind the key can answer these. */
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 429: ErrorBodySchema, 503: ErrorBodySchema };

export const createRun = {
  tags,
  operationId: 'createCodexRun',
  summary:
    'Start a Codex run as the caller (a new thread, or a reply on one of its threads with threadId); ' +
    'with ?wait=true, answer with the run once it is over (202 {id} when the wait deadline passes first)',
  headers: IdempotencyHeadersSchema,
  querystring: WaitQuerySchema,
  body: CreateCodexRunBodySchema,
  response: {
    200: CodexRunSchema,
    202: CreatedCodexRunSchema,
    402: ErrorBodySchema,
    409: ErrorBodySchema,
    422: ErrorBodySchema,
    ...errors,
  },
};

export const getRun = {
  tags,
  operationId: 'getCodexRun',
  summary:
    "One of the caller's runs: status, answer, usage, cost, threadId, error (another user's answers 404); " +
    'with ?wait=true, once it is over or the wait deadline passed',
  params: IdParams,
  querystring: WaitQuerySchema,
  response: { 200: CodexRunSchema, 404: ErrorBodySchema, ...errors },
};

export const runEvents = {
  tags,
  operationId: 'getCodexRunEvents',
  summary:
    'The run as a text/event-stream: `status` and `progress` events from its start, then one `end` event ' +
    'with the run as it ended; the stream closes after it',
  params: IdParams,
  response: {
    200: Type.String({ description: 'text/event-stream' }),
    404: ErrorBodySchema,
    ...errors,
  },
};

export const cancelRun = {
  tags,
  operationId: 'cancelCodexRun',
  summary:
    "Stop one of the caller's runs: its turn is interrupted and it ends `cancelled` (one already over is " +
    'left as it is); answers with the run as it was when asked',
  params: IdParams,
  response: { 202: CodexRunSchema, 404: ErrorBodySchema, ...errors },
};
