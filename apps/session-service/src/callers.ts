import { type AccessRefusal, ANONYMOUS } from '@techsapo/service-kit';
import { UserIdRequired, UserMismatch } from './errors.js';

/** Records a refusal (the `access.refused` event and audit record); never delays or fails the answer. */
export type ReportRefusal = (refusal: AccessRefusal) => void;

/**
 * True when `caller` may act on what `owner` owns. A named user (forwarded behind the internal token) acts
 * only on its own things; `anonymous` (no token configured, or a service holding the token that forwards no
 * user) acts on anything, as before users were forwarded.
 */
export const mayAct = (caller: string, owner: string | null): boolean => caller === ANONYMOUS || caller === owner;

/** What `actingUser` checks: the field that names a user, what it is the owner of, and whom to tell. */
export interface UserCheck {
  field: string;
  resource: AccessRefusal['resource'];
  report: ReportRefusal;
  required?: boolean;
}

/**
 * The user a request acts for: the one it names in `field` (a body or query `userId`), or else the caller.
 * A named caller may only name itself: anything else is 403 USER_MISMATCH, reported as a refusal. An
 * anonymous caller that names nobody gets `undefined`, or 400 when `required`.
 */
export function actingUser(caller: string, named: string | undefined, check: UserCheck & { required: true }): string;
export function actingUser(caller: string, named: string | undefined, check: UserCheck): string | undefined;
export function actingUser(caller: string, named: string | undefined, check: UserCheck): string | undefined {
  if (caller === ANONYMOUS) {
    if (named === undefined && check.required) throw new UserIdRequired(check.field);
    return named;
  }
  if (named !== undefined && named !== caller) {
    check.report({ userId: caller, resource: check.resource, resourceId: named });
    throw new UserMismatch(check.field, caller);
  }
  return caller;
}
