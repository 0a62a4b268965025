/**
 * The access service: the core's use cases, one facade over parts that each hold one idea.
 *
 *   transitions.ts  every change is one conditional write, announced to listeners; leases held
 *   actors.ts       who is asking: account checks, rate limits, groups, visibility, the policy now
 *   requests.ts     new requests and extensions: validated, decided, stored (and granted at once)
 *   decisions.ts    approve, deny, review
 *   active.ts       withdraw, revoke early, show credentials
 *   queries.ts      read-only answers for the Slack edge
 *   execution.ts    the AWS side: grant, extension, revoke (only by the writer that won)
 *   due.ts          what the sweeper moves on: timeouts, reminders, lapsed leases, warnings, expiry
 *   drift.ts        the drift sweep
 *
 * It knows nothing about Slack; notifications are queued in the request's outbox and delivered
 * by the outbox processor.
 */
import type { JitConfig } from '../config-types';
import type { PolicyView, ReminderAudience } from '../domain/policy-terms';
import type { AccessRequest, HomeContents, IssuedCredentials, Target } from '../domain/types';
import type { ExtensionHeadroom, PolicyDecision, SubmissionInput, TargetSummary, ValidSubmission } from '../policy';
import { ActiveAccess } from './active';
import { Actors } from './actors';
import { type DecisionOptions, Decisions } from './decisions';
import { Drift, type DriftReport } from './drift';
import { DueWork } from './due';
import { Execution } from './execution';
import { type AuditHistory, Queries } from './queries';
import type { AuditPageQuery, AuditSubject } from '../domain/audit';
import { Requests } from './requests';
import { type ServiceOptions, type Settings, settingsOf } from './shared';
import { type ChangeListener, Transitions } from './transitions';

export type { ChangeListener } from './transitions';
export type { DecisionOptions } from './decisions';
export type { DriftReport } from './drift';
export type { ServiceOptions } from './shared';
export type { AuditHistory } from './queries';

export class AccessService {
  private readonly s: Settings;
  private readonly transitions: Transitions;
  private readonly actors: Actors;
  private readonly requests: Requests;
  private readonly decisions: Decisions;
  private readonly active: ActiveAccess;
  private readonly queries: Queries;
  private readonly due: DueWork;
  private readonly drift: Drift;

  constructor(o: ServiceOptions) {
    this.s = settingsOf(o);
    this.transitions = new Transitions(this.s);
    this.actors = new Actors(this.s);
    const execution = new Execution(this.s, this.transitions, this.actors);
    this.requests = new Requests(this.s, this.transitions, this.actors, execution);
    this.decisions = new Decisions(this.s, this.transitions, this.actors, execution);
    this.active = new ActiveAccess(this.s, this.transitions, this.actors, execution);
    this.queries = new Queries(this.s, this.actors);
    this.due = new DueWork(this.s, this.transitions, execution);
    this.drift = new Drift(this.s);
  }

  get config(): JitConfig {
    return this.s.config;
  }

  /** Called after every stored change (the scheduler arms timers, the outbox delivers). */
  onChange(listener: ChangeListener): void {
    this.transitions.onChange(listener);
  }

  // ---- requests (requests.ts)

  /** Checks a new request without storing anything (the request form, before it closes). */
  precheck(input: SubmissionInput): Promise<{ valid: ValidSubmission; decision: PolicyDecision }> {
    return this.requests.precheck(input);
  }

  /** Validates, decides and stores a new request (granted at once when the policy says so). */
  submit(input: SubmissionInput, opts: { notifyRequester?: boolean } = {}): Promise<AccessRequest> {
    return this.requests.submit(input, opts);
  }

  /** Asks for more time on the requester's ACTIVE grant. */
  extend(grantId: string, userId: string, input: { duration?: string; reason?: string }): Promise<AccessRequest> {
    return this.requests.extend(grantId, userId, input);
  }

  /** How much longer the requester's ACTIVE grant may run (opening the extension form). */
  extensionLimit(grantId: string, userId: string): Promise<{ request: AccessRequest; target: Target } & ExtensionHeadroom> {
    return this.requests.extensionLimit(grantId, userId);
  }

  /** The extension form's field errors, before the ack (ValidationError naming the field). */
  precheckExtension(grantId: string, userId: string, input: { duration?: string; reason?: string }): Promise<void> {
    return this.requests.precheckExtension(grantId, userId, input);
  }

  // ---- decisions (decisions.ts)

  approve(id: string, actorId: string, opts: DecisionOptions = {}): Promise<AccessRequest> {
    return this.decisions.approve(id, actorId, opts);
  }

  deny(id: string, actorId: string, opts: DecisionOptions = {}): Promise<AccessRequest> {
    return this.decisions.deny(id, actorId, opts);
  }

  /**
   * Opening the Approve… / Deny… form: the pending request and its target, if `actorId` may decide
   * on it now (else the one neutral refusal, whether the request exists or not).
   */
  decisionForm(id: string, actorId: string): Promise<{ request: AccessRequest; target: Target }> {
    return this.decisions.pending(id, actorId);
  }

  /** The decision form's field errors, before the ack (ValidationError naming the field). */
  precheckDecision(id: string, actorId: string, decision: 'approve' | 'deny', input: DecisionOptions): Promise<void> {
    return this.decisions.precheck(id, actorId, decision, input);
  }

  review(id: string, actorId: string): Promise<AccessRequest> {
    return this.decisions.review(id, actorId);
  }

  // ---- open access (active.ts)

  revoke(id: string, actorId: string): Promise<AccessRequest> {
    return this.active.revoke(id, actorId);
  }

  issueCredentials(id: string, userId: string): Promise<{ request: AccessRequest; credentials: IssuedCredentials }> {
    return this.active.issueCredentials(id, userId);
  }

  // ---- read-only answers (queries.ts)

  listOpen(userId: string): Promise<AccessRequest[]> {
    return this.queries.listOpen(userId);
  }

  get(id: string): Promise<AccessRequest | undefined> {
    return this.actors.get(id);
  }

  targetsFor(userId: string): Promise<Target[]> {
    return this.queries.targetsFor(userId);
  }

  targetSummaries(userId: string): Promise<TargetSummary[]> {
    return this.queries.targetSummaries(userId);
  }

  isApprover(userId: string): Promise<boolean> {
    return this.queries.isApprover(userId);
  }

  policyView(userId: string): Promise<PolicyView> {
    return this.queries.policyView(userId);
  }

  /** Whom the notifier reminds of a pending request. */
  reminderAudience(request: AccessRequest): Promise<ReminderAudience> {
    return this.queries.reminderAudience(request);
  }

  /** Whether the expiry warning offers Extend. */
  extensionOffered(request: AccessRequest): boolean {
    return this.queries.extensionOffered(request);
  }

  // ---- background work (due.ts, drift.ts, transitions.ts)

  /** Moves one due request on; undefined if another replica or click moved it first. */
  processDue(id: string): Promise<AccessRequest | undefined> {
    return this.due.process(id);
  }

  /** Due requests, oldest first; with `aheadMs`, also those falling due within that window (after the due ones). */
  listDue(limit: number, aheadMs = 0): Promise<AccessRequest[]> {
    return this.due.list(limit, aheadMs);
  }

  driftSweep(): Promise<DriftReport> {
    return this.drift.sweep();
  }

  /** Shutdown: hands back the intent leases this replica holds. Returns the ids released. */
  releaseLeases(): Promise<string[]> {
    return this.transitions.releaseLeases();
  }

  // ---- the audit (queries.ts)

  /** `/jit audit <id>`: the request and its whole audit trail (approvers only). */
  auditRequest(userId: string, id: string): Promise<AccessRequest> {
    return this.queries.auditRequest(userId, id);
  }

  /** `/jit audit @user|<target> [since …]` and its "More" pages (approvers only). */
  auditHistory(userId: string, query: { subject: AuditSubject; since?: string } | AuditPageQuery): Promise<AuditHistory> {
    return this.queries.auditHistory(userId, query);
  }

  // ---- App Home (queries.ts)

  /** What `userId`'s App Home shows: their access, their pending requests, what waits on them. */
  home(userId: string): Promise<HomeContents> {
    return this.queries.home(userId);
  }

  /** "Withdraw" on the App Home: the requester's PENDING request only (never ends access). */
  withdraw(id: string, userId: string): Promise<AccessRequest> {
    return this.active.withdraw(id, userId);
  }
}
