/**
 * What the Slack edge asks before it renders: the caller's open requests, the targets they may
 * request and how each would be decided, whether they are an approver and may see the whole
 * policy, whom to remind and whether to offer Extend. Nothing here changes a request.
 */
import { AUDIT_PAGE_SIZE, type AuditPageQuery, type AuditSubject, DEFAULT_AUDIT_WINDOW_MS } from '../domain/audit';
import { parseDuration } from '../domain/duration';
import { NotAllowedError, NotFoundError, ValidationError } from '../domain/errors';
import type { PolicyView, ReminderAudience } from '../domain/policy-terms';
import { DEFAULT_RETENTION_MS } from '../domain/retention';
import { type AccessRequest, type HomeContents, isTerminal, type Target } from '../domain/types';
import { canExtendGrant, checkCanDecide, findTarget, isAnyApprover, reminderAudienceFor, summarizeFor, type TargetSummary, visibleTargets } from '../policy';
import { describePolicy } from '../policy-report';
import type { Actors } from './actors';
import { allowed, type Settings } from './shared';

export class Queries {
  constructor(
    private readonly s: Settings,
    private readonly actors: Actors,
  ) {}

  /** The caller's pending and active requests, newest first. */
  async listOpen(userId: string): Promise<AccessRequest[]> {
    const mine = await this.s.store.listByRequester(userId, 100);
    return mine.filter((r) => !isTerminal(r.status));
  }

  /** The targets `userId` may request (the rest are hidden from them). */
  async targetsFor(userId: string): Promise<Target[]> {
    await this.actors.checkActor(userId);
    return visibleTargets(this.s.config, userId, await this.actors.groupsOf(userId));
  }

  /** What `/jit targets` shows the caller: what they may request and how it would be decided now. */
  async targetSummaries(userId: string): Promise<TargetSummary[]> {
    await this.actors.checkActor(userId);
    return summarizeFor(this.s.config, userId, await this.actors.groupsOf(userId), this.s.clock.now());
  }

  /** Approvers of any target (or the default approvers) may see the whole policy. */
  async isApprover(userId: string): Promise<boolean> {
    await this.actors.checkActor(userId);
    return isAnyApprover(this.s.config, userId, await this.actors.groupsOf(userId));
  }

  /** `/jit policy check`: approvers see the whole effective policy; anyone else only their own targets. */
  async policyView(userId: string): Promise<PolicyView> {
    return (await this.isApprover(userId)) ? { scope: 'all', lines: describePolicy(this.s.config) } : { scope: 'own' };
  }

  /**
   * `/jit audit <id>`: the request with its whole audit trail. Approvers only: anyone else gets
   * the one refusal, whether the request exists or not.
   */
  async auditRequest(userId: string, id: string): Promise<AccessRequest> {
    await this.requireAuditor(userId);
    // Through the id check like every read (the edge checked it too): nothing else reaches the store.
    const request = await this.actors.get(id);
    if (!request) throw new NotFoundError('no-such-request', { id });
    return request;
  }

  /**
   * `/jit audit @user|<target> [since 7d]`: one page of that user's or target's requests created in
   * the window, newest first, from the index (never a scan). A typed query gives `since` as text
   * (default 30 days); a "More" button gives the page it carries. The window never reaches further
   * back than the retention (nothing older is kept).
   */
  async auditHistory(userId: string, query: { subject: AuditSubject; since?: string } | AuditPageQuery): Promise<AuditHistory> {
    await this.requireAuditor(userId);
    const now = this.s.clock.now().getTime();
    const retentionMs = this.s.config.retentionMs ?? DEFAULT_RETENTION_MS;
    let sinceMs: number;
    if ('sinceIso' in query) {
      sinceMs = Math.max(Date.parse(query.sinceIso), now - retentionMs);
    } else if (query.since === undefined) {
      sinceMs = now - Math.min(DEFAULT_AUDIT_WINDOW_MS, retentionMs);
    } else {
      const ms = parseDuration(query.since);
      if (ms === undefined || ms > retentionMs) throw new ValidationError('audit-since-invalid', { text: query.since, maxMs: retentionMs });
      sinceMs = now - ms;
    }
    const sinceIso = new Date(sinceMs).toISOString();
    const after = 'after' in query ? query.after : undefined;
    const subject = query.subject;
    const page =
      subject.by === 'user'
        ? await this.s.store.historyOfRequester(subject.userId, sinceIso, AUDIT_PAGE_SIZE, after)
        : await this.s.store.historyOfTarget(subject.name, sinceIso, AUDIT_PAGE_SIZE, after);
    return {
      subject,
      sinceIso,
      first: after === undefined,
      requests: page.requests,
      ...(page.next ? { next: { subject, sinceIso, after: page.next } } : {}),
    };
  }

  /** Approvers of any target may read the audit; the refusal says nothing about what was asked. */
  private async requireAuditor(userId: string): Promise<void> {
    if (!(await this.isApprover(userId))) throw new NotAllowedError('audit-approvers-only', {});
  }

  /** Whom to remind of a pending request now (approver groups resolved as cached); the notifier renders and sends. */
  async reminderAudience(request: AccessRequest): Promise<ReminderAudience> {
    const target = findTarget(this.s.config, request.targetName);
    return reminderAudienceFor(this.s.config, request, target?.policy.reminders?.dm ? await this.actors.membersOf(target) : undefined);
  }

  /** Does the expiry warning offer "Extend" (live grant, target unchanged, headroom left)? */
  extensionOffered(request: AccessRequest): boolean {
    return canExtendGrant(this.s.config, request);
  }

  /**
   * The App Home of `userId`: their active grants and pending requests (the requester index) and
   * the pending requests they may decide now (the due index, bounded: HOME_WAITING_MAX shown,
   * HOME_PENDING_READ_MAX index entries read), each checked by the policy as a click would be.
   */
  async home(userId: string): Promise<HomeContents> {
    const [open, groups] = await Promise.all([this.listOpen(userId), this.actors.groupsOf(userId)]);
    const active = open.filter((r) => r.status === 'ACTIVE').sort((a, b) => (a.expiresAt ?? '').localeCompare(b.expiresAt ?? ''));
    const pending = open.filter((r) => r.status === 'PENDING');
    const waiting: AccessRequest[] = [];
    let waitingMore = false;
    if (isAnyApprover(this.s.config, userId, groups)) {
      const longest = Math.max(this.s.config.defaults.approvalTimeoutMs, ...this.s.config.targets.map((t) => t.policy.approvalTimeoutMs));
      const candidates = await this.s.store.listPending(this.s.clock.now().getTime() + longest, HOME_PENDING_READ_MAX, HOME_PENDING_READ_MAX);
      for (const r of candidates) {
        if (!allowed(() => checkCanDecide(this.s.config, r, userId, groups)) || r.approvals?.some((a) => a.by === userId)) continue;
        if (waiting.length === HOME_WAITING_MAX) {
          waitingMore = true;
          break;
        }
        waiting.push(r);
      }
    }
    return { userId, at: this.s.clock.now().toISOString(), active, extendable: active.filter((r) => canExtendGrant(this.s.config, r)).map((r) => r.id), pending, waiting, waitingMore };
  }
}

/** At most this many requests under "Waiting on me" (a home is a summary; the channel has them all). */
export const HOME_WAITING_MAX = 25;
/** At most this many PENDING requests read to fill it. */
export const HOME_PENDING_READ_MAX = 500;

/** One page of `/jit audit @user|<target>`. */
export interface AuditHistory {
  subject: AuditSubject;
  /** The window's start, after the default and the retention bound. */
  sinceIso: string;
  /** The first page (not one a "More" button asked for). */
  first: boolean;
  /** Newest first. */
  requests: AccessRequest[];
  /** The next page, when there is one. */
  next?: AuditPageQuery;
}
