/**
 * The access service: the core's use cases. It validates, applies lifecycle events through the
 * store (one conditional write each), and performs the AWS side effects only as the writer that
 * won. It knows nothing about Slack; notifications are queued in the request's outbox and
 * delivered by the outbox processor.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { JitConfig } from './config-types';
import { AlreadyResolvedError, ConflictError, GrantError, InvalidTransitionError, NotAllowedError, NotFoundError } from './domain/errors';
import { type AccessRequest, type Ec2Grant, type Grant, type IssuedCredentials, isStsKind, isTerminal, type ObservedRule, type Target } from './domain/types';
import { decide, type LifecycleEvent } from './lifecycle';
import { checkCanDecide, checkCanRevoke, findTarget, recheckForGrant, type SubmissionInput, validateSubmission } from './policy';
import type { AccessProvider, Clock, FaultHook, RequestStore, RuleRegistry, UserDirectory } from './ports';

export interface ServiceOptions {
  config: JitConfig;
  store: RequestStore;
  /** Holders of each AWS rule (overlapping grants share one). */
  registry: RuleRegistry;
  providers: Partial<Record<Target['kind'], AccessProvider>>;
  clock: Clock;
  log: Logger;
  /** Identifies this replica in leases and logs. */
  owner: string;
  /** Region of targets that name none. */
  defaultRegion: string;
  /** How long an intent (GRANTING / REVOKING) is owned before another replica may take over. */
  leaseMs?: number;
  /** Give up granting (FAILED) when AWS keeps failing for this long after approval. */
  grantRetryBudgetMs?: number;
  /** Alert the approver channel after this many failed revoke attempts (retries go on). */
  revokeAlertAfter?: number;
  random?: () => number;
  /** Crash points for fault-injection tests; absent in production. */
  faults?: FaultHook;
  /** Who a Slack user is (STS SourceIdentity); default: their Slack user id. */
  users?: UserDirectory;
}

export interface DriftReport {
  /** Rules carrying our tag that no live grant holds: removed. */
  removed: ObservedRule[];
  /** Rules on managed groups without our tag: reported, never touched. */
  untagged: ObservedRule[];
  /** Rules we tried to remove but AWS did not confirm. */
  failed: ObservedRule[];
  /** Other housekeeping done (e.g. expired deny policies removed from roles). */
  cleaned: string[];
}

export type ChangeListener = (request: AccessRequest) => void;

const DEFAULT_LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 60_000;

export class AccessService {
  private readonly listeners: ChangeListener[] = [];
  private readonly leaseMs: number;
  private readonly grantRetryBudgetMs: number;
  private readonly revokeAlertAfter: number;
  private readonly random: () => number;

  constructor(private readonly o: ServiceOptions) {
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.grantRetryBudgetMs = o.grantRetryBudgetMs ?? 5 * 60_000;
    this.revokeAlertAfter = o.revokeAlertAfter ?? 5;
    this.random = o.random ?? Math.random;
  }

  get config(): JitConfig {
    return this.o.config;
  }

  /** Called after every stored change (the scheduler arms timers, the outbox delivers). */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  // ------------------------------------------------------------------ use cases

  /**
   * Validates and stores a new PENDING request, with the approval message queued (and a DM to
   * the requester when they submitted through a form, which has no place for a reply).
   */
  async submit(input: SubmissionInput, opts: { notifyRequester?: boolean } = {}): Promise<AccessRequest> {
    const valid = validateSubmission(this.o.config, input);
    // Ask AWS what only AWS knows (the role exists, the nodes are managed and online) before storing.
    await this.o.providers[valid.target.kind]?.checkRequest?.(valid.target);
    const now = this.o.clock.now();
    const deadline = now.getTime() + this.o.config.defaults.approvalTimeoutMs;
    const at = now.toISOString();
    const request: AccessRequest = {
      id: newRequestId(),
      version: 1,
      status: 'PENDING',
      kind: valid.target.kind,
      targetName: valid.target.name,
      requesterId: input.requesterId,
      reason: valid.reason,
      durationMs: valid.durationMs,
      ...(valid.cidr ? { cidr: valid.cidr } : {}),
      createdAt: at,
      approvalDeadline: new Date(deadline).toISOString(),
      dueAt: deadline,
      audit: [{ at, actor: input.requesterId, action: 'request', from: null, to: 'PENDING', details: { target: valid.target.name, durationMs: String(valid.durationMs), ...(valid.cidr ? { cidr: valid.cidr } : {}) } }],
      outbox: { [`${at}-post`]: { id: `${at}-post`, kind: 'approval.post', createdAt: at } },
    };
    if (opts.notifyRequester) request.outbox[`${at}-submitted`] = { id: `${at}-submitted`, kind: 'dm.submitted', createdAt: at };
    await this.o.store.create(request);
    this.log(request).info({ event: 'request.submitted', target: request.targetName, durationMs: request.durationMs }, 'request submitted');
    this.changed(request);
    return request;
  }

  /** Approves a PENDING request and grants access. Returns the request after the grant attempt. */
  async approve(id: string, actorId: string): Promise<AccessRequest> {
    const request = await this.pendingForDecision(id, actorId);
    const target = recheckForGrant(this.o.config, request);
    const granting = await this.apply(request, { type: 'approve', actor: actorId }, (current) => resolvedError(current));
    return this.runGrant(granting, target);
  }

  async deny(id: string, actorId: string): Promise<AccessRequest> {
    const request = await this.pendingForDecision(id, actorId);
    return this.apply(request, { type: 'deny', actor: actorId }, (current) => resolvedError(current));
  }

  /**
   * Ends access early (ACTIVE → REVOKING → REVOKED), or withdraws a PENDING request (requester).
   * Allowed for the requester and approvers.
   */
  async revoke(id: string, actorId: string): Promise<AccessRequest> {
    const request = await this.mustGet(id);
    checkCanRevoke(this.o.config, request, actorId);
    switch (request.status) {
      case 'PENDING':
        if (actorId !== request.requesterId) throw new NotAllowedError(`\`${id}\` is still waiting for approval: deny it instead of revoking.`);
        return this.apply(request, { type: 'withdraw', actor: actorId }, (current) => resolvedError(current));
      case 'ACTIVE': {
        const revoking = await this.apply(request, { type: 'revoke', actor: actorId }, (current) => resolvedError(current));
        return this.runRevoke(revoking);
      }
      case 'GRANTING':
        throw new AlreadyResolvedError(`\`${id}\` is being granted right now; try again in a few seconds.`);
      case 'REVOKING':
        throw new AlreadyResolvedError(`\`${id}\` is already being revoked.`);
      default:
        throw resolvedError(request);
    }
  }

  /**
   * Issues credentials for the requester's active role-backed grant, lasting until access ends
   * (at least STS's 15 minutes, at most the role's maximum). Only the requester may see them;
   * each issue is audited. The credentials are returned, never stored.
   */
  async issueCredentials(id: string, userId: string): Promise<{ request: AccessRequest; credentials: IssuedCredentials }> {
    const request = await this.mustGet(id);
    if (userId !== request.requesterId) throw new NotAllowedError(`Only the requester of \`${id}\` can see its credentials.`);
    const grant = request.grant;
    if (request.status !== 'ACTIVE' || !grant || !request.expiresAt) throw resolvedError(request);
    if (this.o.clock.now().getTime() >= Date.parse(request.expiresAt)) throw resolvedError({ ...request, status: 'REVOKING' });
    const provider = this.provider(grant.kind);
    if (!isStsKind(grant.kind) || !provider.issueCredentials) throw new NotAllowedError(`\`${id}\` is ${request.kind} access: there are no credentials to show.`);
    const credentials = await provider.issueCredentials(request, grant, new Date(request.expiresAt));
    await this.o.store.appendAudit(id, 'ACTIVE', {
      at: this.o.clock.now().toISOString(),
      actor: userId,
      action: 'credentials-issued',
      from: 'ACTIVE',
      to: 'ACTIVE',
      details: { assumedRoleArn: credentials.assumedRoleArn, expiresAt: credentials.expiration, accessKeyId: credentials.accessKeyId },
    });
    this.log(request).info({ event: 'credentials.issued', assumedRoleArn: credentials.assumedRoleArn, expiresAt: credentials.expiration }, 'credentials issued to the requester');
    return { request, credentials };
  }

  /** The caller's pending and active requests, newest first. */
  async listOpen(userId: string): Promise<AccessRequest[]> {
    const mine = await this.o.store.listByRequester(userId, 100);
    return mine.filter((r) => !isTerminal(r.status));
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    return this.o.store.get(id);
  }


  // ------------------------------------------------------------------ background work

  /**
   * Moves one due request on: approval timeout, lapsed grant or revoke leases, expiry warning,
   * expiry. Safe to call from any replica at any time: every step is a conditional write and
   * only its winner touches AWS. Returns the request as left, or undefined if someone else won.
   */
  async processDue(id: string): Promise<AccessRequest | undefined> {
    const request = await this.o.store.get(id);
    if (!request || request.dueAt === undefined) return request;
    const now = this.o.clock.now().getTime();
    if (request.dueAt > now) return request;
    try {
      switch (request.status) {
        case 'PENDING':
          return await this.apply(request, { type: 'approval-timeout' });
        case 'GRANTING': {
          const claimed = await this.apply(request, { type: 'claim', owner: this.o.owner });
          const target = findTarget(this.o.config, claimed.targetName);
          if (!target) return await this.apply(claimed, { type: 'grant-failed', error: `target ${claimed.targetName} is no longer configured` });
          return await this.runGrant(claimed, target);
        }
        case 'ACTIVE':
          if (request.expiresAt && now >= Date.parse(request.expiresAt)) {
            return await this.runRevoke(await this.apply(request, { type: 'expire' }));
          }
          return await this.apply(request, { type: 'warn' });
        case 'REVOKING':
          return await this.runRevoke(await this.apply(request, { type: 'claim', owner: this.o.owner }));
        default:
          return request;
      }
    } catch (err) {
      if (err instanceof ConflictError || err instanceof InvalidTransitionError) return undefined; // another replica or click moved it first
      throw err;
    }
  }

  /** Due requests, oldest first. */
  async listDue(limit: number): Promise<AccessRequest[]> {
    return this.o.store.listDue(this.o.clock.now().getTime(), limit);
  }

  // ------------------------------------------------------------------ internals

  private async runGrant(granting: AccessRequest, target: Target): Promise<AccessRequest> {
    const provider = this.provider(target.kind);
    const log = this.log(granting);
    this.fault('after-grant-intent', granting);
    let grant: Grant;
    try {
      recheckForGrant(this.o.config, granting);
      const expiresAt = new Date(this.o.clock.now().getTime() + granting.durationMs);
      const sourceIdentity = isStsKind(target.kind) && this.o.users ? await this.o.users.sourceIdentity(granting.requesterId) : granting.requesterId;
      grant = await provider.grant(granting, target, expiresAt, { sourceIdentity });
      if (grant.kind === 'ec2-ssh') await this.holdRule(grant, granting.id);
    } catch (err) {
      const message = errorText(err);
      const retryable = !(err instanceof GrantError) || err.retryable;
      const sinceApproval = this.o.clock.now().getTime() - Date.parse(granting.decidedAt ?? granting.createdAt);
      if (retryable && sinceApproval < this.grantRetryBudgetMs) {
        log.warn({ event: 'grant.retry', err: message, attempts: (granting.attempts ?? 0) + 1 }, 'grant failed, will retry');
        return this.apply(granting, { type: 'grant-retry', error: message, retryAt: this.retryAt(granting.attempts ?? 0) });
      }
      log.error({ event: 'grant.failed', err: message }, 'grant failed');
      return this.apply(granting, { type: 'grant-failed', error: message });
    }
    this.fault('after-grant-aws', granting);
    log.info({ event: 'grant.created', grant }, 'access granted');
    const active = await this.apply(granting, { type: 'granted', grant });
    this.fault('after-active', active);
    return active;
  }

  /**
   * Registers the request as a holder of its rule (shared when another live grant created it). A
   * rule that is being revoked takes no newcomer: retry, and the next attempt creates a fresh rule.
   */
  private async holdRule(grant: Ec2Grant, requestId: string): Promise<void> {
    try {
      await this.o.registry.join(ruleKey(grant), requestId);
    } catch (err) {
      throw err instanceof ConflictError ? new GrantError(`rule ${grant.securityGroupRuleId} is being revoked for another request; retrying`, true) : err;
    }
  }

  /**
   * Ends a grant: leaves the rule's holder list; the last holder revokes it in AWS and accepts
   * the revoke only once a re-read confirms the rule is gone. Failures are retried with backoff
   * for as long as it takes; humans are alerted once the retry budget is spent.
   */
  private async runRevoke(revoking: AccessRequest): Promise<AccessRequest> {
    const log = this.log(revoking);
    this.fault('after-revoke-intent', revoking);
    const grant = revoking.grant;
    let removed = false;
    let holders: string[] = [];
    let sessions: string[] = [];
    try {
      if (grant) {
        const provider = this.provider(grant.kind);
        // Cut what the rule alone would leave running, before giving up our hold on it.
        sessions = (await provider.endSessions?.(revoking, grant)) ?? [];
        if (grant.kind !== 'ec2-ssh') {
          // Role-backed: STS credentials cannot be recalled; the provider denies the session.
          const result = await provider.revoke(revoking, grant);
          if (!result.verified) throw new GrantError(`AWS does not yet confirm that ${grant.roleSessionName} on ${grant.roleArn} is denied (or could not be asked)`, true);
          removed = result.removed;
          this.fault('after-revoke-aws', revoking);
        } else {
          const key = ruleKey(grant);
          holders = await this.o.registry.leave(key, revoking.id);
          if (holders.length === 0 && (await this.o.registry.beginRevoke(key))) {
            const result = await provider.revoke(revoking, grant);
            if (!result.verified) throw new GrantError(`AWS still lists rule ${grant.securityGroupRuleId} on ${grant.securityGroupId} after revoking it (or could not be asked)`, true);
            removed = result.removed;
            this.fault('after-revoke-aws', revoking);
            await this.o.registry.forget(key);
          } else if (holders.length === 0) {
            holders = await this.o.registry.holders(key); // someone joined between leave and revoke
          }
        }
      }
    } catch (err) {
      const message = errorText(err);
      const attempts = (revoking.attempts ?? 0) + 1;
      const permanent = err instanceof GrantError && !err.retryable;
      const alert =
        attempts === this.revokeAlertAfter || (permanent && attempts === 1)
          ? `Revoking \`${revoking.id}\` (${revoking.targetName}) keeps failing: ${message}. The bot keeps retrying; check its AWS permissions and the resource.`
          : undefined;
      log.error({ event: 'revoke.retry', err: message, attempts }, 'revoke failed, will retry');
      return this.apply(revoking, { type: 'revoke-retry', error: message, retryAt: this.retryAt(revoking.attempts ?? 0), ...(alert ? { alert } : {}) });
    }
    const outcome = holders.length > 0 ? 'released' : 'verified';
    log.info({ event: 'revoke.done', removed, outcome, holders, grant }, outcome === 'verified' ? 'access revoked and verified' : 'access ended; shared rule kept for other grants');
    return this.apply(revoking, { type: 'revoked', removed, outcome, holders, sessions });
  }

  /**
   * Drift sweep: finds rules on the managed security groups that carry our tag but that no live
   * grant holds (left by a crash, a manual restore, a bug) and removes them; reports rules
   * without our tag and never touches them.
   */
  async driftSweep(): Promise<DriftReport> {
    const report: DriftReport = { removed: [], untagged: [], failed: [], cleaned: [] };
    const now = this.o.clock.now();
    for (const provider of Object.values(this.o.providers)) {
      if (!provider?.cleanup) continue;
      try {
        report.cleaned.push(...(await provider.cleanup(this.o.config.targets.filter((t) => t.kind === provider.kind), now)));
      } catch (err) {
        // One kind's housekeeping failing must not stop the others (the ec2 sweep below above all).
        this.o.log.error({ event: 'drift.cleanup_failed', kind: provider.kind, err: errorText(err) }, 'housekeeping failed; will retry next sweep');
      }
    }
    const groups = new Map<string, { region: string; securityGroupId: string }>();
    for (const t of this.o.config.targets) {
      if (t.kind !== 'ec2-ssh') continue;
      const region = t.region ?? this.o.defaultRegion;
      groups.set(`${region}#${t.securityGroupId}`, { region, securityGroupId: t.securityGroupId });
    }
    const provider = this.o.providers['ec2-ssh'];
    if (!provider?.listRules || !provider.removeRule || groups.size === 0) return report;
    for (const rule of await provider.listRules([...groups.values()])) {
      if (!rule.managed) {
        report.untagged.push(rule);
        continue;
      }
      if (await this.isHeld(rule)) continue;
      const result = await provider.removeRule(rule).catch(() => ({ removed: false, verified: false }));
      (result.verified ? report.removed : report.failed).push(rule);
      this.o.log.warn({ event: 'drift.orphan', rule, removed: result.removed, verified: result.verified }, 'removed a tagged rule that no live grant holds');
    }
    return report;
  }

  /** A tagged rule is live while a grant holds it or its request is still being granted or revoked. */
  private async isHeld(rule: ObservedRule): Promise<boolean> {
    if ((await this.o.registry.holders(`${rule.region}#${rule.securityGroupRuleId}`)).length > 0) return true;
    if (!rule.requestId) return false;
    const request = await this.o.store.get(rule.requestId);
    return request?.status === 'GRANTING' || request?.status === 'REVOKING';
  }

  /**
   * Applies an event as one conditional write. On a lost race the `onConflict` mapper turns the
   * current state into the error the caller should see; without one, the ConflictError propagates.
   */
  private async apply(request: AccessRequest, event: LifecycleEvent, onConflict?: (current: AccessRequest) => Error): Promise<AccessRequest> {
    const transition = decide(request, event, {
      now: this.o.clock.now(),
      leaseMs: this.leaseMs,
      expiryWarningMs: this.o.config.defaults.expiryWarningMs,
      owner: this.o.owner,
      newId: () => randomBytes(4).toString('hex'),
    });
    let next: AccessRequest;
    try {
      next = await this.o.store.transition(transition);
    } catch (err) {
      if (err instanceof ConflictError && onConflict) {
        const current = await this.o.store.get(request.id);
        throw current ? onConflict(current) : err;
      }
      throw err;
    }
    this.log(next).info({ event: 'request.transition', action: transition.audit?.action, from: transition.expectStatus, to: next.status, actor: transition.audit?.actor, version: next.version }, `${transition.expectStatus} → ${next.status}`);
    this.changed(next);
    return next;
  }

  private async pendingForDecision(id: string, actorId: string): Promise<AccessRequest> {
    const request = await this.mustGet(id);
    if (request.status !== 'PENDING') throw resolvedError(request);
    checkCanDecide(this.o.config, request, actorId);
    if (this.o.clock.now().getTime() >= Date.parse(request.approvalDeadline)) {
      // The sweeper has not got to it yet; the deadline still holds.
      const expired = await this.apply(request, { type: 'approval-timeout' }, (current) => resolvedError(current));
      throw resolvedError(expired);
    }
    return request;
  }

  private async mustGet(id: string): Promise<AccessRequest> {
    const request = await this.o.store.get(id);
    if (!request) throw new NotFoundError(`There is no request \`${id}\`. \`/jit list\` shows your open requests.`);
    return request;
  }

  private provider(kind: Target['kind']): AccessProvider {
    const provider = this.o.providers[kind];
    if (!provider) throw new GrantError(`no access provider for ${kind}`);
    return provider;
  }

  /** Exponential backoff with full jitter, capped. */
  private retryAt(previousAttempts: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** previousAttempts);
    return this.o.clock.now().getTime() + Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private fault(point: Parameters<FaultHook>[0], request: AccessRequest): void {
    this.o.faults?.(point, request.id);
  }

  private changed(request: AccessRequest): void {
    for (const listener of this.listeners) {
      try {
        listener(request);
      } catch (err) {
        this.log(request).error({ err: errorText(err) }, 'change listener failed');
      }
    }
  }

  private log(request: AccessRequest): Logger {
    return this.o.log.child({ requestId: request.id });
  }
}

/**
 * The error a user sees when they act on a request that has moved on. The text is plain; the
 * messaging adapter renders the full story (who decided, until when) from the request it carries.
 */
export function resolvedError(request: AccessRequest): AlreadyResolvedError {
  return new AlreadyResolvedError(`Request \`${request.id}\` is already ${request.status.toLowerCase()}. Nothing was changed.`, request);
}

/** The registry key of a grant's AWS rule. */
export function ruleKey(grant: Ec2Grant): string {
  return `${grant.region}#${grant.securityGroupRuleId}`;
}

/** Request ids: "jit-" and 10 characters of Crockford base32 (50 bits). */
function newRequestId(): string {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  const bytes = randomBytes(10);
  let id = '';
  for (const b of bytes) id += alphabet[b % 32];
  return `jit-${id}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
