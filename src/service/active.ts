/**
 * Acting on open access: the requester withdraws a PENDING request or ends their access early; an
 * approver ends someone's access; the requester sees the credentials of a role-backed grant.
 */
import { AlreadyResolvedError, failureCodeOfError, newFailureRef, NotAllowedError, ReferencedFailureError } from '../domain/errors';
import type { AccessRequest, IssuedCredentials } from '../domain/types';
import { checkCanRevoke, findTarget } from '../policy';
import type { Actors } from './actors';
import type { Execution } from './execution';
import { allowed, errorText, providerOf, requestLog, resolvedError, type Settings } from './shared';
import type { Transitions } from './transitions';

export class ActiveAccess {
  constructor(
    private readonly s: Settings,
    private readonly t: Transitions,
    private readonly actors: Actors,
    private readonly execution: Execution,
  ) {}

  /**
   * Ends access early (ACTIVE → REVOKING → REVOKED), or withdraws a PENDING request (requester).
   * Allowed for the requester and approvers.
   */
  async revoke(id: string, actorId: string): Promise<AccessRequest> {
    // Withdrawing or ending one's own access is always allowed; acting on someone else's is an
    // approver's act, so the account is checked first (before anything about the request is said).
    if ((await this.actors.get(id))?.requesterId !== actorId) await this.actors.checkActor(actorId);
    const request = await this.actors.visibleTo(id, async (r) => {
      if (actorId === r.requesterId) return true;
      const groups = await this.actors.groupsOf(actorId);
      return allowed(() => checkCanRevoke(this.s.config, r, actorId, groups));
    }, 'revoke');
    switch (request.status) {
      case 'PENDING':
        if (actorId !== request.requesterId) throw new NotAllowedError('revoke-pending', { id });
        return this.t.apply(request, { type: 'withdraw', actor: actorId }, (current) => resolvedError(current));
      case 'ACTIVE': {
        const revoking = await this.t.apply(request, { type: 'revoke', actor: actorId }, (current) => resolvedError(current));
        return this.execution.revoke(revoking);
      }
      case 'GRANTING':
        throw new AlreadyResolvedError('being-granted', { id });
      case 'REVOKING':
        throw new AlreadyResolvedError('being-revoked', { id });
      default:
        throw resolvedError(request);
    }
  }

  /**
   * The requester withdraws their PENDING request ("Withdraw" on the App Home). Unlike revoke, it
   * never ends access: a request approved meanwhile is reported as it is now, and left alone.
   */
  async withdraw(id: string, userId: string): Promise<AccessRequest> {
    const request = await this.actors.visibleTo(id, (r) => userId === r.requesterId, 'revoke');
    if (request.status !== 'PENDING') throw resolvedError(request);
    return this.t.apply(request, { type: 'withdraw', actor: userId }, (current) => resolvedError(current));
  }

  /**
   * Issues credentials for the requester's active role-backed grant, lasting until access ends
   * (at least STS's 15 minutes, at most the role's maximum). Only the requester may see them;
   * each issue is audited. The credentials are returned, never stored.
   */
  async issueCredentials(id: string, userId: string): Promise<{ request: AccessRequest; credentials: IssuedCredentials }> {
    const request = await this.actors.visibleTo(id, (r) => userId === r.requesterId, 'credentials');
    const grant = request.grant;
    if (request.status !== 'ACTIVE' || !grant || !request.expiresAt) throw resolvedError(request);
    if (this.s.clock.now().getTime() >= Date.parse(request.expiresAt)) throw resolvedError({ ...request, status: 'REVOKING' });
    const provider = providerOf(this.s, grant.kind);
    if (!provider.issueCredentials) throw new NotAllowedError('no-credentials', { id, kind: request.kind });
    let credentials: IssuedCredentials;
    try {
      credentials = await provider.issueCredentials(request, findTarget(this.s.config, request.targetName), grant, new Date(request.expiresAt));
    } catch (err) {
      // The requester sees a code and a reference; AWS's message goes to the log and the audit under it.
      const code = failureCodeOfError(err);
      const ref = newFailureRef(this.s.random);
      requestLog(this.s, request).error({ event: 'credentials.failed', code, ref, err: errorText(err) }, 'could not issue credentials');
      await this.s.store
        .appendAudit(id, 'ACTIVE', { at: this.s.clock.now().toISOString(), actor: userId, action: 'credentials-failed', from: 'ACTIVE', to: 'ACTIVE', details: { code, ref, error: errorText(err) } })
        .catch(() => undefined); // moved on meanwhile: the log keeps it
      throw new ReferencedFailureError(code, ref);
    }
    await this.s.store.appendAudit(id, 'ACTIVE', {
      at: this.s.clock.now().toISOString(),
      actor: userId,
      action: 'credentials-issued',
      from: 'ACTIVE',
      to: 'ACTIVE',
      details: { assumedRoleArn: credentials.assumedRoleArn, expiresAt: credentials.expiration, accessKeyId: credentials.accessKeyId },
    });
    requestLog(this.s, request).info({ event: 'credentials.issued', assumedRoleArn: credentials.assumedRoleArn, expiresAt: credentials.expiration }, 'credentials issued to the requester');
    return { request, credentials };
  }
}
