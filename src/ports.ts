/**
 * Ports: the interfaces the core talks to. Adapters implement them (src/store, src/aws, handlers/).
 */
import type { ActorProfile } from './domain/safety';
import { type AccessRequest, type AuditEntry, type Grant, type IssuedCredentials, type Notification, NOTIFICATION_KINDS, type ObservedRule, type RequestStatus, type SlackMessageRef, type Target } from './domain/types';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A state change: one conditional write on (status, version). */
export interface Transition {
  id: string;
  expectStatus: RequestStatus;
  expectVersion: number;
  /** New status (may equal expectStatus for in-state changes such as "warned" or a lease renewal). */
  status: RequestStatus;
  /** Fields to set; `undefined` values are removed. */
  set: Partial<Omit<AccessRequest, 'id' | 'version' | 'status' | 'audit' | 'outbox'>>;
  audit?: AuditEntry;
  notify?: Notification[];
}

/** Where a history page ended: the last request's createdAt and id (validated at the edge when it comes back). */
export interface HistoryCursor {
  createdAt: string;
  id: string;
}

export interface HistoryPage {
  requests: AccessRequest[];
  next?: HistoryCursor;
}

/** Where a changed-since page ended: the month bucket, and the last request's changedAt and id. */
export interface ChangeCursor {
  month: string;
  /** Absent: from the start of `month`. */
  changedAt?: string;
  id?: string;
}

export interface ChangePage {
  requests: AccessRequest[];
  next?: ChangeCursor;
}

export interface RequestStore {
  /** Stores a new request; fails with ConflictError if the id exists. */
  create(request: AccessRequest): Promise<void>;
  get(id: string): Promise<AccessRequest | undefined>;
  /** Many requests at once (batched reads); ids not found are absent from the answer. */
  getMany(ids: readonly string[]): Promise<Map<string, AccessRequest>>;
  /** Applies a transition atomically or throws ConflictError. Returns the new state. */
  transition(t: Transition): Promise<AccessRequest>;
  /** Requests whose dueAt <= now, oldest first (query on the due index, never a scan). */
  listDue(nowMs: number, limit: number): Promise<AccessRequest[]>;
  /**
   * PENDING requests (due index, never a scan): every PENDING request is on it with dueAt at or
   * before its approval deadline, so reading it up to `untilMs` (now + the longest approval
   * timeout) finds them all. Reads at most `maxRead` index entries (GRANTING, ACTIVE and REVOKING
   * ones are skipped); returns at most `limit`, soonest due first.
   */
  listPending(untilMs: number, limit: number, maxRead: number): Promise<AccessRequest[]>;
  /** Requests of one requester, newest first. */
  listByRequester(requesterId: string, limit: number): Promise<AccessRequest[]>;
  /**
   * One page of a requester's requests created at or after `sinceIso`, newest first (byRequester
   * index, a bounded Query). `next` is set when there may be more: pass it back as `after`.
   */
  historyOfRequester(requesterId: string, sinceIso: string, limit: number, after?: HistoryCursor): Promise<HistoryPage>;
  /** The same for one target (byTarget index). */
  historyOfTarget(targetName: string, sinceIso: string, limit: number, after?: HistoryCursor): Promise<HistoryPage>;
  /**
   * One page of the requests whose latest audit record is at or after `sinceIso` (byChange index:
   * one Query per month bucket, from the month of `sinceIso` to the month of `untilIso`), oldest
   * change first. Every request with an audit record in the window is among them exactly once.
   */
  changedSince(sinceIso: string, untilIso: string, limit: number, after?: ChangeCursor): Promise<ChangePage>;
  /** Requests with undelivered notifications, oldest first. */
  listWithOutbox(limit: number): Promise<AccessRequest[]>;
  /** Removes a delivered notification (no version bump: delivery is not a state change). */
  ackNotification(id: string, notificationId: string): Promise<void>;
  /** Records a failed delivery attempt. */
  recordNotificationAttempt(id: string, notificationId: string, attempts: number): Promise<void>;
  /**
   * Appends an audit record for something that is not a state change (credentials shown), while
   * the request is in `status`. No version bump. NotFound/ConflictError when it has moved on.
   */
  appendAudit(id: string, status: RequestStatus, entry: AuditEntry): Promise<void>;
  /** Remembers where the approval message lives (no version bump). */
  setApprovalMessage(id: string, ref: SlackMessageRef): Promise<void>;
  /**
   * Claims one undelivered notification for `untilMs` so that only one replica sends it.
   * Undefined when it is gone or another replica's claim has not lapsed.
   */
  claimNotification(id: string, notificationId: string, owner: string, nowMs: number, untilMs: number): Promise<NotificationClaim | undefined>;
  /**
   * Optional batch of claimNotification: claims all of `notificationIds` in ONE conditional write,
   * all or none (undefined when any is gone or held by another replica's unlapsed claim). The
   * outbox claims a delivery pass with it and falls back to one claim per message when it is absent.
   */
  claimNotifications?(id: string, notificationIds: readonly string[], owner: string, nowMs: number, untilMs: number): Promise<NotificationClaim | undefined>;
  /**
   * Optional batch of ackNotification: removes the delivered `notificationIds` in one write and,
   * when they were all that was left, leaves the outbox index in the same write (else one more).
   * `approvalMessage`: the pass posted the approval message; remembered in the same write.
   */
  ackNotifications?(id: string, notificationIds: readonly string[], approvalMessage?: SlackMessageRef): Promise<void>;
  /**
   * Optional: hands back `owner`'s claims on `notificationIds` (a pass that stopped at a failure:
   * these never reached Slack), so the next pass sends them plainly, not as resends. Another's
   * claim or a notification gone is left alone; an adapter may then hand back none of them in
   * that call (DynamoDB: one conditional write), and those claims simply lapse.
   */
  releaseNotifications?(id: string, notificationIds: readonly string[], owner: string): Promise<void>;
  /** Takes or renews a named lease (e.g. the drift sweep) for `untilMs`. False when another owner holds it. */
  tryLease(name: string, owner: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Hands a named lease back if `owner` holds it (shutdown), so the next owner need not wait for it to lapse. */
  releaseLease(name: string, owner: string): Promise<void>;
}

/** What waits in the store's sparse indexes (metrics, readiness). */
export interface StoreBacklog {
  due: number;
  outbox: number;
  /** Epoch ms when the oldest undelivered notification was queued. */
  outboxOldestAt?: number;
}

/**
 * Everything the composition root needs of a store adapter (DynamoDB, or the embedded store on
 * one host): the request store, the rule registry, and the operational reads of readiness,
 * metrics and the drift sweep. Every adapter passes the same contract suite (test/store/contract.ts).
 */
export interface StoreAdapter extends RequestStore, RuleRegistry {
  leaveLast(ruleKey: string, requestId: string): Promise<boolean>;
  claimNotifications(id: string, notificationIds: readonly string[], owner: string, nowMs: number, untilMs: number): Promise<NotificationClaim | undefined>;
  ackNotifications(id: string, notificationIds: readonly string[], approvalMessage?: SlackMessageRef): Promise<void>;
  releaseNotifications(id: string, notificationIds: readonly string[], owner: string): Promise<void>;
  holdersOf(ruleKeys: readonly string[]): Promise<Map<string, string[]>>;
  /** A cheap call for readiness: throws when the store does not answer. */
  ping(signal?: AbortSignal): Promise<void>;
  /** Due requests (dueAt <= now) and requests with undelivered notifications, each counted up to `bound`. */
  backlog(nowMs: number, bound: number, signal?: AbortSignal): Promise<StoreBacklog>;
  /** Requests with undelivered notifications, counted up to `bound`. */
  outboxCount(bound: number, signal?: AbortSignal): Promise<number>;
}

/**
 * Who holds each AWS rule the bot created. Two live grants for the same group, port and address
 * share one rule (EC2 refuses a duplicate); it is removed only when the last holder ends. A rule
 * being revoked accepts no new holder, so a revoke never races a newcomer. Keys are opaque
 * ("<region>#<rule id>"). Used by the ec2-ssh provider only (the store implements it); the core
 * sees the result as RevokeResult.holders.
 */
export interface RuleRegistry {
  /** Adds a holder; ConflictError while the rule is being revoked. Idempotent. */
  join(ruleKey: string, requestId: string): Promise<void>;
  /** Removes a holder (idempotent) and returns the holders left. */
  leave(ruleKey: string, requestId: string): Promise<string[]>;
  /** Marks the rule as being revoked if nobody holds it. False when someone holds it. */
  beginRevoke(ruleKey: string): Promise<boolean>;
  /**
   * leave and beginRevoke in one write, when the request is the rule's only holder: true when it
   * left and the rule is now being revoked (the caller removes it from AWS). False when others hold
   * it or the request is not among its holders: nothing changed, take the two-step path.
   * Optional: without it, leave then beginRevoke.
   */
  leaveLast?(ruleKey: string, requestId: string): Promise<boolean>;
  /** Forgets a rule that is gone from AWS. */
  forget(ruleKey: string): Promise<void>;
  /** Current holders (empty when unknown). */
  holders(ruleKey: string): Promise<string[]>;
  /**
   * The holders of many rules at once (the drift sweep: batched reads, not one per rule). Every
   * key asked is in the answer, with [] when unknown. Optional: without it, holders() per rule.
   */
  holdersOf?(ruleKeys: readonly string[]): Promise<Map<string, string[]>>;
  /**
   * Every rule with holders, listed in a few reads (the drift sweep over thousands of rules). May
   * lag (an eventually consistent index): a rule not in it is confirmed with holdersOf, and a rule
   * in it is left for the next sweep. Optional, and undefined when the store cannot list them.
   */
  heldRules?(): Promise<ReadonlySet<string> | undefined>;
}

/**
 * One kind of access (ec2-ssh, aws-role, ssm-session): everything kind-specific lives behind it,
 * including bookkeeping of resources shared between grants and the kind's drift sweep, so the core
 * has no branch per kind.
 *
 * Every call after checkRequest receives the target as configured NOW, or `undefined` when it was
 * removed from the config since (or changed kind: the provider refuses what it cannot use).
 * Revocation must work from what the stored grant carries, whatever the target has become.
 */
export interface AccessProvider {
  readonly kind: Target['kind'];
  /** The grant needs GrantContext.sourceIdentity from the UserDirectory (STS); otherwise it gets the Slack user id. */
  readonly usesSourceIdentity?: boolean;
  /**
   * Checks a new request's target against AWS before anything is stored (e.g. the role exists,
   * the nodes are managed and online). Throws ValidationError with a message for the requester.
   */
  checkRequest?(target: Target): Promise<void>;
  /**
   * Grants access for the request. Idempotent: if a grant for this request already exists it is
   * adopted, not duplicated. Throws GrantError for failures (retryable or not).
   */
  grant(request: AccessRequest, target: Target, expiresAt: Date, ctx: GrantContext): Promise<Grant>;
  /**
   * Revokes the grant, then re-reads AWS to confirm it took. Already gone counts as success.
   * `verified` is false when the re-read disagrees or could not be made. Non-empty `holders`:
   * access ended for this request while other grants keep a shared resource (nothing revoked).
   */
  revoke(request: AccessRequest, target: Target | undefined, grant: Grant): Promise<RevokeResult>;
  /**
   * Why a `verified: false` revoke is not accepted, naming the resource (for the log and the
   * audit under the failure reference). Default: a generic sentence.
   */
  unverifiedRevoke?(grant: Grant): string;
  /**
   * Ends live sessions opened under the grant, before access itself is removed. Removing an
   * ingress rule does not cut established connections (connection tracking keeps them), so a
   * kind that can see its sessions (SSM: DescribeSessions + TerminateSession) implements this;
   * ec2-ssh cannot see inside the instance and leaves it out. Returns the ids it ended, for the
   * audit record.
   */
  endSessions?(request: AccessRequest, target: Target | undefined, grant: Grant): Promise<string[]>;
  /**
   * After an extension moved the grant's end: updates what records the end in AWS (ec2-ssh: the
   * rule's expires-at tag and description), read back. Throws (retryable) when not done yet.
   */
  recordExpiry?(request: AccessRequest, grant: Grant, expiresAt: Date): Promise<void>;
  /**
   * Issues credentials for an active grant (role-backed kinds), lasting at most until `until`
   * or the role's maximum, and never less than STS's 15 minutes. May refuse (GrantError) when the
   * target is no longer configured.
   */
  issueCredentials?(request: AccessRequest, target: Target | undefined, grant: Grant, until: Date): Promise<IssuedCredentials>;
  /**
   * Housekeeping for the drift sweep: removes what outlived its purpose (e.g. deny statements
   * whose credentials have all expired). Gets the configured targets of its kind. Returns a line
   * per thing removed.
   */
  cleanup?(targets: Target[], now: Date): Promise<string[]>;
  /**
   * Drift sweep of the kind's own AWS resources (ec2-ssh: ingress rules on the managed groups):
   * removes tagged resources no live grant holds, reports untagged ones and never touches them.
   * Gets the configured targets of its kind.
   */
  sweepDrift?(targets: Target[], ctx: DriftContext): Promise<DriftFindings>;
}

/** What a provider's drift sweep needs from the core. */
export interface DriftContext {
  now: Date;
  /**
   * Is this request still being granted or revoked (GRANTING / REVOKING)? Pass the tag value as
   * read from AWS: a value that is not a request id is answered false without a lookup.
   */
  isLive(requestId: string): Promise<boolean>;
  /**
   * The same for many tag values at once (batched reads): the subset that is live. Values that are
   * not request ids are dropped before any read. Optional: without it, isLive per value.
   */
  liveOf?(requestIds: readonly string[]): Promise<Set<string>>;
  /**
   * Of these request ids, those whose request has ended (a final status): nothing may still be
   * granted for them. A stale read shows an earlier status, never a final one not yet reached, so
   * an id in the set has ended for sure; an id not found is not in it. Batched reads. Optional:
   * without it, a sweep that needs it (Identity Center) removes nothing.
   */
  endedOf?(requestIds: readonly string[]): Promise<Set<string>>;
}

/** What one kind's drift sweep found (the core merges them into its report). */
export interface DriftFindings {
  /** Resources carrying our tag that no live grant holds: removed. */
  removed: ObservedRule[];
  /** Resources without our tag on what we manage: reported, never touched. */
  untagged: ObservedRule[];
  /** Resources we tried to remove but AWS did not confirm. */
  failed: ObservedRule[];
  /** A line per other thing removed, or that could not be (a kind whose resources are not rules: Identity Center assignments). */
  cleaned?: string[];
}

/** Facts about the human that a grant needs from outside AWS. */
export interface GrantContext {
  /** STS SourceIdentity: the requester's email when Slack shares it, else their Slack user id. */
  sourceIdentity: string;
}

/** Who a Slack user is, for STS SourceIdentity. */
export interface UserDirectory {
  sourceIdentity(userId: string): Promise<string>;
  /**
   * What Slack says about the account (guest, another workspace, deactivated, bot), cached
   * briefly. Throws when Slack cannot be asked: the caller refuses (fails closed).
   */
  profile(userId: string): Promise<ActorProfile>;
}

/**
 * Slack user groups (usergroups.users.list), for approvers and requesters named by group.
 * Cached with a short TTL; a lookup that does not find the user refreshes a stale-enough entry
 * first, so someone just added to a group is not refused for a whole TTL.
 */
export interface GroupDirectory {
  /** Members of one group (user ids). */
  members(groupId: string, opts?: GroupReadOptions): Promise<readonly string[]>;
  /** The groups among `groupIds` that `userId` is in. */
  groupsOf(userId: string, groupIds: readonly string[], opts?: GroupReadOptions): Promise<Set<string>>;
}

export interface GroupReadOptions {
  /**
   * Read the membership from the source now, not from the cache (the policy decided again before
   * a grant: someone removed from a group a moment ago must not be granted on a stale read).
   */
  fresh?: boolean;
}

/** No groups configured: nobody is in any group. */
export const noGroups: GroupDirectory = { members: async () => [], groupsOf: async () => new Set() };

/**
 * A delivery claim that held (RequestStore.claimNotifications). `reclaimed`: the notifications
 * among them that an earlier claim had taken and no ack removed. That pass stopped between its
 * send and its ack (a crash, a failure, a timeout), so Slack may have them already.
 */
export interface NotificationClaim {
  reclaimed: ReadonlySet<string>;
}

export interface RevokeResult {
  removed: boolean;
  verified: boolean;
  /**
   * Other requests still holding a shared resource (ec2-ssh: one rule for the same group, port
   * and address): non-empty means access ended for this request and the resource was kept.
   */
  holders?: string[];
  /** Sessions ended (or denied) as part of the revoke, for the audit (as endSessions returns them). */
  sessions?: string[];
}

/** How the outbox hands a notification over (NotificationSender.send). */
export interface SendOptions {
  /**
   * An earlier delivery of this notification stopped without recording it sent (the claim was
   * reclaimed): it may be in Slack already. The sender looks for it before it posts again, so
   * people see each message once.
   */
  resend?: boolean;
}

/**
 * Delivers one notification for a request (the Slack adapter renders and sends it). Returns the
 * message reference when it posted the approval message (or found it, on a resend), so later
 * updates edit it in place.
 */
export interface NotificationSender {
  /** Delivers one notification; throws SendRateLimitedError (domain/errors) when the platform asks to slow down. */
  send(notification: Notification, request: AccessRequest, target: Target | undefined, options?: SendOptions): Promise<SlackMessageRef | void>;
  /** Posts an alert that belongs to no request (drift sweep findings) to the approver channel. */
  alert(title: string, text: string): Promise<void>;
}

/** Crash points of the request lifecycle, for the fault-injection tests; a no-op in production. */
export const LIFECYCLE_FAULT_POINTS = ['after-grant-intent', 'after-grant-aws', 'after-active', 'after-revoke-intent', 'after-revoke-aws'] as const;
/** Every crash point: the lifecycle's, and the outbox's between Slack's answer and the record of it. */
export const FAULT_POINTS = [...LIFECYCLE_FAULT_POINTS, 'after-message-sent'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];
/** `detail`: what the point is about beyond the request (after-message-sent: the notification kind). */
export type FaultHook = (point: FaultPoint, requestId: string, detail?: string) => void;
/** What JIT_TEST_CRASH_AT may name: a point, or `after-message-sent:<kind>` (only after that kind of message). */
export const CRASH_SPECS: readonly string[] = [...FAULT_POINTS, ...NOTIFICATION_KINDS.map((k) => `after-message-sent:${k}`)];
/** Whether a crash spec (one of CRASH_SPECS) names this point and detail. */
export const crashSpecMatches = (spec: string, point: FaultPoint, detail?: string): boolean => spec === point || (detail !== undefined && spec === `${point}:${detail}`);

/** How a submitted request (or extension) came out at submit time. */
export type RequestOutcome = 'pending' | 'auto-approved' | 'break-glass' | 'refused-by-policy' | 'invalid' | 'error';
export type GrantOutcome = 'ok' | 'failed' | 'retried';
/**
 * verified: gone in AWS (re-read); released: ended while other grants still hold a shared rule;
 * retried: an attempt failed and another is scheduled; failed: a failure that alerted humans
 * (a permanent error, or the retry budget spent; retries go on).
 */
export type RevocationOutcome = 'verified' | 'released' | 'retried' | 'failed';

/**
 * What the core reports for metrics. A narrow port: the Prometheus adapter (src/metrics.ts)
 * implements it; the default does nothing, so callers and tests need not care.
 */
export interface Telemetry {
  requestSubmitted(kind: string, outcome: RequestOutcome): void;
  /** One approver's yes; `quorum` when it completed the quorum. */
  approval(quorum: boolean): void;
  grant(kind: string, outcome: GrantOutcome): void;
  revocation(kind: string, outcome: RevocationOutcome): void;
  /** Expiry → verified gone, for grants that ended by expiring. */
  revokeLateness(kind: string, seconds: number): void;
  /** Final approval → ACTIVE. */
  approveToActive(kind: string, seconds: number): void;
  /** A durable sweep read the due index (epoch ms) and found `due` requests. */
  sweepRan(atMs: number, due: number): void;
  /** Drift sweep: tagged rules no grant held, removed (or not confirmed). */
  driftRemoval(outcome: 'removed' | 'failed'): void;
  /** Outbox delivery results. */
  notification(outcome: 'sent' | 'retried' | 'dropped'): void;
}

export const noTelemetry: Telemetry = {
  requestSubmitted: () => undefined,
  approval: () => undefined,
  grant: () => undefined,
  revocation: () => undefined,
  revokeLateness: () => undefined,
  approveToActive: () => undefined,
  sweepRan: () => undefined,
  driftRemoval: () => undefined,
  notification: () => undefined,
};
