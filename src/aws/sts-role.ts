/**
 * AccessProvider for "aws-role" targets: temporary credentials for a role (STS AssumeRole),
 * optionally narrowed by the target's session policy, under a session name that carries the
 * requester and the request id, with the requester as SourceIdentity.
 *
 * The grant assumes the role once to prove it works and to learn the ids the audit and the deny
 * need; those credentials are dropped. The requester gets credentials from issueCredentials (the
 * "Show credentials" modal), which assumes the role again under the same session name; they are
 * never stored. Revoking denies that session name on the role (see sts-session.ts).
 */
import type { AccessRequest, AwsRoleTarget, Grant, IssuedCredentials, RoleGrant, Target } from '../domain/types';
import type { AccessProvider, GrantContext, RevokeResult } from '../ports';
import { configuredTarget, expectKind, rolesOf, type StsSessions, unverifiedDeny } from './sts-session';

export interface StsRoleProviderOptions {
  /** Region of targets that do not name one (the STS endpoint the role is assumed through). */
  defaultRegion: string;
}

export class StsRoleProvider implements AccessProvider {
  readonly kind = 'aws-role' as const;
  readonly usesSourceIdentity = true;

  constructor(
    private readonly sessions: StsSessions,
    private readonly opts: StsRoleProviderOptions,
  ) {}

  /** The role exists (ValidationError otherwise). */
  async checkRequest(target: Target): Promise<void> {
    const role = expectKind(target, this.kind);
    await this.sessions.roleMaxSeconds(role.roleArn, role.assumeRole);
  }

  async grant(request: AccessRequest, target: Target, _expiresAt: Date, ctx: GrantContext): Promise<RoleGrant> {
    const role: AwsRoleTarget = expectKind(target, this.kind);
    const session = await this.sessions.open({
      requestId: request.id,
      requesterId: request.requesterId,
      sourceIdentity: ctx.sourceIdentity,
      durationMs: request.durationMs,
      region: role.region ?? this.opts.defaultRegion,
      roleArn: role.roleArn,
      externalId: role.externalId,
      ...(role.assumeRole ? { assumeRole: role.assumeRole } : {}),
      policyFor: () => role.sessionPolicy,
    });
    return { kind: this.kind, ...session };
  }

  /** Refuses when the target is no longer configured (its session policy and external id are needed). */
  async issueCredentials(request: AccessRequest, target: Target | undefined, grant: RoleGrant, until: Date): Promise<IssuedCredentials> {
    const role = configuredTarget(target, request, this.kind);
    return this.sessions.reissue(grant, until, { policy: role.sessionPolicy, externalId: role.externalId });
  }

  /** STS credentials cannot be recalled: the session name is denied on the role until they have all expired. */
  async revoke(request: AccessRequest, _target: Target | undefined, grant: RoleGrant): Promise<RevokeResult> {
    return this.sessions.deny(request.id, grant);
  }

  unverifiedRevoke(grant: Grant): string {
    return unverifiedDeny(grant as RoleGrant);
  }

  async cleanup(targets: Target[], now: Date): Promise<string[]> {
    return this.sessions.cleanupRoles(rolesOf(targets, this.kind), now);
  }
}
