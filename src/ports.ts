/**
 * Ports: the interfaces the core talks to. Adapters implement them (src/store, src/aws, handlers/).
 */
import type { AccessRequest, AuditEntry, Grant, Notification, RequestStatus, SlackMessageRef, Target } from './domain/types';

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

export interface RequestStore {
  /** Stores a new request; fails with ConflictError if the id exists. */
  create(request: AccessRequest): Promise<void>;
  get(id: string): Promise<AccessRequest | undefined>;
  /** Applies a transition atomically or throws ConflictError. Returns the new state. */
  transition(t: Transition): Promise<AccessRequest>;
  /** Requests whose dueAt <= now, oldest first (query on the due index, never a scan). */
  listDue(nowMs: number, limit: number): Promise<AccessRequest[]>;
  /** Requests of one requester, newest first. */
  listByRequester(requesterId: string, limit: number): Promise<AccessRequest[]>;
  /** Requests with undelivered notifications, oldest first. */
  listWithOutbox(limit: number): Promise<AccessRequest[]>;
  /** Removes a delivered notification (no version bump: delivery is not a state change). */
  ackNotification(id: string, notificationId: string): Promise<void>;
  /** Records a failed delivery attempt. */
  recordNotificationAttempt(id: string, notificationId: string, attempts: number): Promise<void>;
  /** Remembers where the approval message lives (no version bump). */
  setApprovalMessage(id: string, ref: SlackMessageRef): Promise<void>;
}

export interface AccessProvider {
  readonly kind: Target['kind'];
  /**
   * Grants access for the request. Idempotent: if a grant tagged with this request already exists
   * it is adopted, not duplicated. Throws GrantError for non-retryable failures.
   */
  grant(request: AccessRequest, target: Target, expiresAt: Date): Promise<Grant>;
  /** Revokes the grant. Already gone counts as success. Returns whether anything was removed. */
  revoke(request: AccessRequest, grant: Grant): Promise<{ removed: boolean }>;
}

/**
 * Delivers one notification for a request (the Slack adapter renders and sends it). Returns the
 * message reference when it posted the approval message, so later updates edit it in place.
 */
export interface NotificationSender {
  send(notification: Notification, request: AccessRequest, target: Target | undefined): Promise<SlackMessageRef | void>;
}
