/**
 * AccessProvider for "sso-permission-set" targets: an IAM Identity Center account assignment
 * (permission set × account × the requester's Identity Center user) for the grant's duration.
 *
 * The user is found in the instance's Identity Store by the requester's Slack email (the
 * UserDirectory's source identity); no email, or no such user, fails the grant with
 * `sso-user-not-found` and nothing is assigned.
 *
 * Standing access is never removed. An assignment has no tags to say who made it, so the bot's
 * claim lives in the RuleRegistry (the holders of a key per instance, permission set, account and
 * user), written BEFORE the assignment is created:
 *   - the user already has the assignment and no live grant of this bot holds it: standing access,
 *     the grant is refused (`sso-standing-access`, nothing changes, nothing will be deleted);
 *   - a grant re-driven after a crash finds its own claim and adopts what it finds (creating the
 *     assignment if the crash came before CreateAccountAssignment);
 *   - two live grants for the same assignment share it, and only the last to end deletes it.
 * The bound: an assignment someone adds by hand while a grant holds it is deleted with the grant.
 *
 * Create and delete are asynchronous in Identity Center: each is followed by polling its status
 * until SUCCEEDED (FAILED is final), then by a read-back (ListAccountAssignments). A grant still
 * provisioning after `maxPolls` is retried (the core's durable retry re-drives it); a revoke is
 * `verified` only when the read-back no longer lists the assignment.
 *
 * Sessions outlive assignments: deleting the assignment stops new sign-ins, but role credentials
 * already issued through the portal last until the permission set's session duration runs out.
 * The grant records that duration (DescribePermissionSet) so the DMs can state the bound. A target
 * with `endSessions` goes further, as AWS documents: after the assignments are deleted, a Deny in
 * the permission set's inline policy for the user's sessions issued before the end, on the
 * accounts where the permission set's role remains, provisioned there and read back
 * (src/aws/sso-session-deny.ts). Writes to that one document are serialised across replicas by a
 * store lease per permission set.
 */
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  GetInlinePolicyForPermissionSetCommand,
  paginateListAccountAssignments,
  paginateListAccountsForProvisionedPermissionSet,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  type AccountAssignmentOperationStatus,
  type PermissionSetProvisioningStatus,
  type SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { GetUserIdCommand, type IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { ConflictError, GrantError } from '../domain/errors';
import type { AccessRequest, Grant, SsoGrant, SsoPermissionSetTarget, Target } from '../domain/types';
import type { AccessProvider, DriftContext, DriftFindings, GrantContext, RevokeResult, RuleRegistry } from '../ports';
import { awsErrorCode, awsFailure } from './retry';
import { parseIsoDuration } from '../domain/duration';
import { type EndedSessions, holdsEndedSessions, MAX_SSO_SESSION_MS, withEndedSessions } from './sso-session-deny';
import { inlinePolicySize, ROLE_INLINE_POLICY_LIMIT } from '../domain/session-policy';

export interface SsoPermissionSetProviderOptions {
  /** Region of targets that do not name one (Identity Center lives in one Region). */
  defaultRegion: string;
  /** The bot's claims on assignments (see the header). */
  registry: RuleRegistry;
  /** Between two status reads of a create or delete (default 1 s). */
  pollIntervalMs?: number;
  /** Status reads before a grant or revoke attempt gives up for now and is retried (default 30). */
  maxPolls?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Epoch ms (default Date.now): the time a session deny names. */
  now?: () => number;
  /**
   * A named lease across replicas (the store's): taken around each read-modify-write of a
   * permission set's inline policy (endSessions). Without one, the writes of one process only are
   * serialised.
   */
  lease?: { take(name: string, forMs: number): Promise<boolean>; release(name: string): Promise<void> };
}

/** How long the inline-policy lease is held at most (a write, a provisioning and a read-back). */
const INLINE_POLICY_LEASE_MS = 120_000;

/** The parts of an assignment. */
interface Assignment {
  client: SSOAdminClient;
  region: string;
  instanceArn: string;
  permissionSetArn: string;
  accountId: string;
  principalId: string;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SsoPermissionSetProvider implements AccessProvider {
  readonly kind = 'sso-permission-set' as const;
  readonly usesSourceIdentity = true;
  private readonly pollIntervalMs: number;
  private readonly maxPolls: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly adminFor: (region: string) => SSOAdminClient,
    private readonly identityStoreFor: (region: string) => IdentitystoreClient,
    private readonly o: SsoPermissionSetProviderOptions,
  ) {
    this.pollIntervalMs = o.pollIntervalMs ?? 1_000;
    this.maxPolls = o.maxPolls ?? 30;
    this.sleep = o.sleep ?? realSleep;
  }

  /**
   * Assigns the permission set on every account the request picked (all of the target's for a
   * request stored before requests picked), in parallel, each claimed, created,
   * awaited and read back on its own (so each survives a crash on its own). An account where the
   * user already holds it (standing access) is recorded and left alone; when that is every account
   * there is nothing to grant (`sso-standing-access`). A final failure on one account ends the
   * whole grant: the accounts already assigned for it are unassigned first.
   */
  async grant(request: AccessRequest, target: SsoPermissionSetTarget, _expiresAt: Date, ctx: GrantContext): Promise<SsoGrant> {
    const region = target.region ?? this.o.defaultRegion;
    const email = ctx.sourceIdentity;
    const principalId = await this.userId(region, target.identityStoreId, email);
    const client = this.adminFor(region);
    // The accounts the request picked (checked against the target again just before: recheckForGrant).
    const all = (request.accounts ?? target.accountIds).map((accountId): Assignment => ({ client, region, instanceArn: target.instanceArn, permissionSetArn: target.permissionSetArn, accountId, principalId }));
    const outcomes = await Promise.allSettled(all.map((a) => this.grantOne(request.id, a)));
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    if (failures.length > 0) {
      // While any account is unsettled (a retryable failure: throttled, still provisioning), the
      // whole attempt is retried: nothing is deleted while it may still be being created.
      const final = failures.every((e) => e instanceof GrantError && !e.retryable) ? failures[0] : undefined;
      if (final) {
        // Every account is settled and one failed for good. Nothing half-granted stays: every
        // account this request holds a claim on is unassigned; accounts it does not claim
        // (standing access, never reached) are not touched.
        try {
          const claimed = await Promise.all(all.map(async (a) => ((await this.o.registry.holders(assignmentKey(a))).includes(request.id) ? a : undefined)));
          await Promise.all(claimed.flatMap((a) => (a ? [this.revokeOne(request.id, a)] : [])));
        } catch (err) {
          throw awsFailure(err, `unassigning the other accounts after: ${(final as Error).message}`);
        }
        throw final;
      }
      throw failures.find((e) => !(e instanceof GrantError) || e.retryable);
    }
    // Every account settled (no failure above): each outcome is 'granted' or 'standing'.
    const standing = all.filter((_, i) => outcomes[i]!.status === 'fulfilled' && outcomes[i]!.value === 'standing').map((a) => a.accountId);
    const accountIds = all.map((a) => a.accountId).filter((id) => !standing.includes(id));
    if (accountIds.length === 0) {
      throw new GrantError(`the user already holds permission set ${lastPart(target.permissionSetArn)} on ${standing.join(', ')} outside this bot (standing access): nothing was assigned, and it will not be removed`, false, 'sso-standing-access');
    }
    return {
      kind: 'sso-permission-set',
      region,
      instanceArn: target.instanceArn,
      permissionSetArn: target.permissionSetArn,
      accountIds,
      ...(standing.length > 0 ? { standing } : {}),
      principalId,
      email,
      ...(await this.sessionDuration(all[0]!)),
      ...(target.endSessions ? { endSessions: true as const } : {}),
    };
  }

  /** One account: claimed before it is created (see the header); 'standing' when it was the user's already. */
  private async grantOne(requestId: string, a: Assignment): Promise<'granted' | 'standing'> {
    const key = assignmentKey(a);
    const holders = await this.o.registry.holders(key);
    if (!holders.includes(requestId)) {
      // Before the claim: an assignment nobody of ours holds is the user's standing access.
      const standing = holders.length === 0 && (await this.assigned(a));
      await this.claim(key, requestId, a);
      if (standing) {
        // The claim went through, so no revoke of ours is deleting it: it is not ours. Let go.
        await this.o.registry.leave(key, requestId);
        await this.o.registry.forget(key);
        return 'standing';
      }
    }
    try {
      if (!(await this.assigned(a))) await this.create(a);
      if (!(await this.assigned(a))) throw new GrantError(`${describe(a)} reported SUCCEEDED but is not listed yet; retrying`, true);
    } catch (err) {
      // A final failure leaves the claim (nothing of ours to hold); a retryable one keeps it for the retry.
      if (err instanceof GrantError && !err.retryable) await this.o.registry.leave(key, requestId).catch(() => undefined);
      throw err;
    }
    return 'granted';
  }

  /**
   * Every account of the grant: leaves the assignment's holders; the last holder deletes it, waits
   * for the deletion, and forgets the claim once a read-back no longer lists it. Verified only when
   * every account is; accounts kept for other live grants are not deleted.
   */
  async revoke(request: AccessRequest, _target: Target | undefined, grant: SsoGrant): Promise<RevokeResult> {
    const client = this.adminFor(grant.region);
    const all = grant.accountIds.map((accountId): Assignment => ({ client, region: grant.region, instanceArn: grant.instanceArn, permissionSetArn: grant.permissionSetArn, accountId, principalId: grant.principalId }));
    const results = await Promise.all(all.map((a) => this.revokeOne(request.id, a)));
    const verified = results.every((r) => r.verified);
    if (results.every((r) => !r.removed)) return { removed: false, verified, holders: [...new Set(results.flatMap((r) => r.holders ?? []))] };
    // Sessions: only once every assignment is gone (no new session can start), and only on the
    // accounts this grant's end removed (an account kept for another live grant keeps its sessions).
    if (!verified || !grant.endSessions) return { removed: true, verified };
    const ended = all.filter((_, i) => results[i]!.removed).map((a) => a.accountId);
    const sessions = await this.endEarlierSessions(request.id, grant, ended);
    return { removed: true, verified: true, ...(sessions.length > 0 ? { sessions } : {}) };
  }

  /**
   * The Deny for the user's sessions issued before now, on `accountIds` where the permission set's
   * role remains (where Identity Center removed the role with the last assignment, its sessions
   * went with it): merged into the inline policy under the lease, provisioned to those accounts,
   * read back. Returns what the audit records; throws (retryable) when it could not be done yet.
   */
  private async endEarlierSessions(requestId: string, grant: SsoGrant, accountIds: string[]): Promise<string[]> {
    const client = this.adminFor(grant.region);
    const ids = { InstanceArn: grant.instanceArn, PermissionSetArn: grant.permissionSetArn };
    const set = lastPart(grant.permissionSetArn);
    const remaining = new Set<string>();
    try {
      for await (const page of paginateListAccountsForProvisionedPermissionSet({ client }, ids)) for (const id of page.AccountIds ?? []) remaining.add(id);
    } catch (err) {
      throw awsFailure(err, `listing the accounts permission set ${set} is provisioned to`);
    }
    const where = accountIds.filter((id) => remaining.has(id));
    if (where.length === 0) return [];
    const lease = `sso-inline#${lastPart(grant.instanceArn)}#${set}`;
    if (this.o.lease && !(await this.o.lease.take(lease, INLINE_POLICY_LEASE_MS))) {
      throw new GrantError(`the inline policy of permission set ${set} is being changed for another grant; retrying`, true);
    }
    try {
      const now = (this.o.now ?? Date.now)();
      const entry: EndedSessions = { requestId, userId: grant.principalId, accountIds: where, issuedBefore: new Date(now).toISOString() };
      const current = await this.inlinePolicy(client, ids, set);
      const sessionMs = Math.max(parseIsoDuration((await this.sessionDuration({ client, ...grantAssignment(grant) })).sessionDuration) ?? MAX_SSO_SESSION_MS, 0);
      const policy = withEndedSessions(current, entry, now - Math.min(sessionMs, MAX_SSO_SESSION_MS));
      if (inlinePolicySize(policy) > ROLE_INLINE_POLICY_LIMIT) {
        throw new GrantError(`the inline policy of permission set ${set} would be ${inlinePolicySize(policy)} characters with this deny, over IAM's ${ROLE_INLINE_POLICY_LIMIT} for a role; retrying once older denies lapse (sessions opened before the end last until the session duration meanwhile)`, true);
      }
      try {
        await client.send(new PutInlinePolicyToPermissionSetCommand({ ...ids, InlinePolicy: policy }));
      } catch (err) {
        throw awsFailure(err, `writing the inline policy of permission set ${set}`, "check the bot role's sso:PutInlinePolicyToPermissionSet");
      }
      await Promise.all(where.map((accountId) => this.provision(client, grant, accountId)));
      if (!holdsEndedSessions(await this.inlinePolicy(client, ids, set), entry)) throw new GrantError(`the inline policy of permission set ${set} does not hold the deny for ${requestId} after writing it; retrying`, true);
      return where.map((accountId) => `Identity Center: sessions of user ${grant.principalId} issued before ${entry.issuedBefore} denied on account ${accountId} (permission set ${set})`);
    } finally {
      if (this.o.lease) await this.o.lease.release(lease).catch(() => undefined);
    }
  }

  private async inlinePolicy(client: SSOAdminClient, ids: { InstanceArn: string; PermissionSetArn: string }, set: string): Promise<string | undefined> {
    try {
      return (await client.send(new GetInlinePolicyForPermissionSetCommand(ids))).InlinePolicy;
    } catch (err) {
      throw awsFailure(err, `reading the inline policy of permission set ${set}`);
    }
  }

  /** ProvisionPermissionSet to one account, polled until SUCCEEDED (FAILED is final; still running after maxPolls: retried). */
  private async provision(client: SSOAdminClient, grant: SsoGrant, accountId: string): Promise<void> {
    const set = lastPart(grant.permissionSetArn);
    let status: PermissionSetProvisioningStatus | undefined;
    try {
      status = (await client.send(new ProvisionPermissionSetCommand({ InstanceArn: grant.instanceArn, PermissionSetArn: grant.permissionSetArn, TargetType: 'AWS_ACCOUNT', TargetId: accountId }))).PermissionSetProvisioningStatus;
    } catch (err) {
      throw awsFailure(err, `provisioning permission set ${set} to account ${accountId}`);
    }
    for (let polls = 0; status?.Status === 'IN_PROGRESS' && status.RequestId; polls++) {
      if (polls >= this.maxPolls) throw new GrantError(`provisioning permission set ${set} to account ${accountId} is still in progress (request ${status.RequestId}); retrying`, true);
      await this.sleep(this.pollIntervalMs);
      try {
        status = (await client.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn: grant.instanceArn, ProvisionPermissionSetRequestId: status.RequestId }))).PermissionSetProvisioningStatus;
      } catch (err) {
        throw awsFailure(err, `reading the provisioning of permission set ${set} to account ${accountId}`);
      }
    }
    // FAILED here (e.g. the role's inline policies over IAM's limit) is retried: the deny is not in place.
    if (status?.Status === 'FAILED') throw new GrantError(`provisioning permission set ${set} to account ${accountId} FAILED in Identity Center: ${status.FailureReason ?? 'no reason given'}; retrying`, true);
  }

  private async revokeOne(requestId: string, a: Assignment): Promise<RevokeResult> {
    const key = assignmentKey(a);
    const registry = this.o.registry;
    if (!(registry.leaveLast && (await registry.leaveLast(key, requestId)))) {
      const holders = await registry.leave(key, requestId);
      if (holders.length > 0) return { removed: false, verified: true, holders };
      if (!(await registry.beginRevoke(key))) return { removed: false, verified: true, holders: await registry.holders(key) };
    }
    await this.remove(a);
    const gone = !(await this.assigned(a).catch(() => true));
    if (gone) await registry.forget(key);
    return { removed: true, verified: gone };
  }

  /**
   * Drift sweep of the bot's own assignments. A claim whose requests have all ended (a grant that
   * failed for good before its rollback finished, a bot that died between a rollback's steps) is
   * taken back as a revoke would: each ended request leaves, and the last one deletes the
   * assignment, waits for the deletion, verifies it is gone and forgets the claim. Claims with a
   * live request stay; an assignment the registry holds for nobody (someone's standing access) is
   * never looked at. It reads the registry's list of held rules: no AWS call while nothing of
   * ours is stale.
   */
  async sweepDrift(targets: Target[], ctx: DriftContext): Promise<DriftFindings> {
    const cleaned: string[] = [];
    const findings: DriftFindings = { removed: [], untagged: [], failed: [], cleaned };
    const registry = this.o.registry;
    // Only where Identity Center is configured: the list of held rules is every kind's (10,000
    // security-group rules in a large estate), read here only when there can be claims of ours.
    if (!ctx.endedOf || !targets.some((t) => t.kind === this.kind)) return findings;
    const keys = [...((await registry.heldRules?.()) ?? [])].filter((key) => key.startsWith(`${KEY_PREFIX}#`));
    if (keys.length === 0) return findings;
    const holders = registry.holdersOf ? await registry.holdersOf(keys) : new Map(await Promise.all(keys.map(async (key) => [key, await registry.holders(key)] as const)));
    const ended = await ctx.endedOf([...new Set([...holders.values()].flat())]);
    for (const key of keys) {
      const stale = (holders.get(key) ?? []).filter((id) => ended.has(id));
      const a = stale.length > 0 ? this.assignmentOf(key, targets) : undefined;
      if (!a) continue;
      for (const id of stale) {
        try {
          const result = await this.revokeOne(id, a);
          if (!result.removed) continue; // a live grant still holds it: only the ended request let go
          cleaned.push(result.verified ? `Deleted ${describe(a)}: held only by ${id}, which has ended; Identity Center no longer lists it.` : `Deleted ${describe(a)} (held only by ${id}, which has ended), but Identity Center still lists it; will try again.`);
        } catch (err) {
          cleaned.push(`Could not delete ${describe(a)}, held only by ${id}, which has ended: ${(err as Error).message}. Will try again.`);
        }
      }
    }
    return findings;
  }

  /** The assignment a registry key names, in the Region and partition of the target that names its permission set (else the defaults). */
  private assignmentOf(key: string, targets: Target[]): Assignment | undefined {
    const [prefix, instance, permissionSet, accountId, principalId] = key.split('#');
    if (prefix !== KEY_PREFIX || !instance || !permissionSet || !accountId || !principalId) return undefined;
    const sso = targets.filter((t): t is SsoPermissionSetTarget => t.kind === this.kind);
    const target = sso.find((t) => lastPart(t.instanceArn) === instance && lastPart(t.permissionSetArn) === permissionSet);
    const partition = (target ?? sso[0])?.instanceArn.split(':')[1] ?? 'aws';
    const region = target?.region ?? this.o.defaultRegion;
    return {
      client: this.adminFor(region),
      region,
      instanceArn: target?.instanceArn ?? `arn:${partition}:sso:::instance/${instance}`,
      permissionSetArn: target?.permissionSetArn ?? `arn:${partition}:sso:::permissionSet/${instance}/${permissionSet}`,
      accountId,
      principalId,
    };
  }

  unverifiedRevoke(grant: Grant): string {
    const g = grant as SsoGrant;
    return `Identity Center still lists permission set ${lastPart(g.permissionSetArn)} for user ${g.principalId} on one of ${g.accountIds.join(', ')} after deleting it (or could not be asked)`;
  }

  /** Joins the assignment's holders; one of ours being deleted takes no newcomer (retried once it is gone). */
  private async claim(key: string, requestId: string, a: Assignment): Promise<void> {
    try {
      await this.o.registry.join(key, requestId);
    } catch (err) {
      throw err instanceof ConflictError ? new GrantError(`${describe(a)} is being removed for another request; retrying`, true) : err;
    }
  }

  /** The Identity Store user whose email is `email`. */
  private async userId(region: string, identityStoreId: string, email: string): Promise<string> {
    if (!email.includes('@')) throw new GrantError('Slack shares no email for the requester, so no Identity Center user can be found (the bot needs users:read.email)', false, 'sso-user-not-found');
    try {
      const out = await this.identityStoreFor(region).send(new GetUserIdCommand({ IdentityStoreId: identityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: email } } }));
      if (out.UserId) return out.UserId;
    } catch (err) {
      if (awsErrorCode(err) !== 'ResourceNotFoundException') throw awsFailure(err, `finding the Identity Center user of ${email}`);
    }
    throw new GrantError(`Identity Store ${identityStoreId} has no user with the email ${email}`, false, 'sso-user-not-found');
  }

  /** Is the user assigned the permission set on the account now (provisioned)? */
  private async assigned(a: Assignment): Promise<boolean> {
    try {
      for await (const page of paginateListAccountAssignments({ client: a.client }, { InstanceArn: a.instanceArn, AccountId: a.accountId, PermissionSetArn: a.permissionSetArn })) {
        if ((page.AccountAssignments ?? []).some((x) => x.PrincipalType === 'USER' && x.PrincipalId === a.principalId)) return true;
      }
      return false;
    } catch (err) {
      throw awsFailure(err, `reading the assignments of ${describe(a)}`);
    }
  }

  private async create(a: Assignment): Promise<void> {
    let status: AccountAssignmentOperationStatus | undefined;
    try {
      status = (await a.client.send(new CreateAccountAssignmentCommand(assignmentInput(a)))).AccountAssignmentCreationStatus;
    } catch (err) {
      throw awsFailure(err, `creating ${describe(a)}`, 'check the permission set ARN and the bot role\'s sso:CreateAccountAssignment');
    }
    await this.settle(a, status, 'creating', (id) => a.client.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: a.instanceArn, AccountAssignmentCreationRequestId: id })).then((o) => o.AccountAssignmentCreationStatus));
  }

  private async remove(a: Assignment): Promise<void> {
    let status: AccountAssignmentOperationStatus | undefined;
    try {
      status = (await a.client.send(new DeleteAccountAssignmentCommand(assignmentInput(a)))).AccountAssignmentDeletionStatus;
    } catch (err) {
      if (awsErrorCode(err) === 'ResourceNotFoundException') return; // already gone: the read-back decides
      throw awsFailure(err, `deleting ${describe(a)}`);
    }
    await this.settle(a, status, 'deleting', (id) => a.client.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: a.instanceArn, AccountAssignmentDeletionRequestId: id })).then((o) => o.AccountAssignmentDeletionStatus));
  }

  /** Polls a create or delete until it SUCCEEDED; FAILED is final, still IN_PROGRESS after maxPolls is retried. */
  private async settle(a: Assignment, first: AccountAssignmentOperationStatus | undefined, doing: string, read: (requestId: string) => Promise<AccountAssignmentOperationStatus | undefined>): Promise<void> {
    let status = first;
    for (let polls = 0; status?.Status === 'IN_PROGRESS' && status.RequestId; polls++) {
      if (polls >= this.maxPolls) throw new GrantError(`${doing} ${describe(a)} is still in progress (request ${status.RequestId}); retrying`, true);
      await this.sleep(this.pollIntervalMs);
      try {
        status = await read(status.RequestId);
      } catch (err) {
        throw awsFailure(err, `reading the status of ${doing} ${describe(a)}`);
      }
    }
    if (status?.Status === 'FAILED') throw new GrantError(`${doing} ${describe(a)} FAILED in Identity Center: ${status.FailureReason ?? 'no reason given'}`, false);
  }

  /** The permission set's session duration, for the DMs (best effort: the grant stands without it). */
  private async sessionDuration(a: Pick<Assignment, 'client' | 'instanceArn' | 'permissionSetArn'>): Promise<{ sessionDuration?: string }> {
    try {
      const out = await a.client.send(new DescribePermissionSetCommand({ InstanceArn: a.instanceArn, PermissionSetArn: a.permissionSetArn }));
      return out.PermissionSet?.SessionDuration ? { sessionDuration: out.PermissionSet.SessionDuration } : {};
    } catch {
      return {};
    }
  }
}

function grantAssignment(g: SsoGrant) {
  return { instanceArn: g.instanceArn, permissionSetArn: g.permissionSetArn };
}

function assignmentInput(a: Assignment) {
  return { InstanceArn: a.instanceArn, TargetId: a.accountId, TargetType: 'AWS_ACCOUNT' as const, PermissionSetArn: a.permissionSetArn, PrincipalType: 'USER' as const, PrincipalId: a.principalId };
}

/** The registry key of an assignment ("sso#<instance>#<permission set>#<account>#<user>"). */
export function assignmentKey(a: Pick<Assignment, 'instanceArn' | 'permissionSetArn' | 'accountId' | 'principalId'>): string {
  return `${KEY_PREFIX}#${lastPart(a.instanceArn)}#${lastPart(a.permissionSetArn)}#${a.accountId}#${a.principalId}`;
}

const KEY_PREFIX = 'sso';

const lastPart = (arn: string) => arn.split('/').at(-1) ?? arn;

/** "permission set ps-… on account 123456789012 for user 9067…", for messages. */
function describe(a: Pick<Assignment, 'permissionSetArn' | 'accountId' | 'principalId'>): string {
  return `permission set ${lastPart(a.permissionSetArn)} on account ${a.accountId} for user ${a.principalId}`;
}
