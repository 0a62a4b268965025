import type { Problem, RefusalCode } from './errors';
/**
 * Domain types of jit-access-bot. Pure data: no I/O, no Slack, no AWS SDK.
 */

export type AccessKind = 'ec2-ssh' | 'aws-role' | 'ssm-session' | 'sso-permission-set';

/** STS refuses sessions shorter than this; role-backed kinds cannot be granted for less. */
export const STS_MIN_DURATION_MS = 15 * 60_000;
/** The longest session STS will issue for any role. */
export const STS_MAX_DURATION_MS = 12 * 3_600_000;
/**
 * Accounts one sso-permission-set target grants together. Each is an assignment created, awaited
 * and verified in parallel, and deleted at the end: fifty keeps a grant's Identity Center calls in
 * the low hundreds.
 */
export const MAX_SSO_ACCOUNTS = 50;

/**
 * Lifecycle of one access request.
 *
 *   PENDING ──approve──▶ GRANTING ──granted──▶ ACTIVE ──expire/revoke──▶ REVOKING ──revoked──▶ REVOKED
 *      │                    └──grant failed──▶ FAILED
 *      ├──approve (quorum not yet met) ──▶ PENDING (one more approval recorded)
 *      ├──remind────▶ PENDING  (approvers reminded before the deadline)
 *      ├──deny──────▶ DENIED
 *      ├──timeout───▶ EXPIRED   (nobody decided before the approval deadline)
 *      └──withdraw──▶ CANCELLED (the requester withdrew it)
 *
 * Auto-approved and break-glass requests are stored straight into GRANTING (with the request and
 * the policy's decision as two audit records of the one write). An extension request runs the same
 * PENDING machinery; its "grant" moves the expiry of the ACTIVE grant it extends, and it ends
 * EXTENDED.
 *
 * GRANTING and REVOKING are "intent" states: they are stored before the AWS call, so a crash
 * between intent and outcome is found again by the sweeper and finished (grants are idempotent,
 * revokes treat "already gone" as done).
 */
export type RequestStatus =
  | 'PENDING'
  | 'GRANTING'
  | 'ACTIVE'
  | 'REVOKING'
  | 'REVOKED'
  | 'DENIED'
  | 'EXPIRED'
  | 'CANCELLED'
  | 'FAILED'
  /** An extension request whose time was added to the grant it extends (its work is done). */
  | 'EXTENDED';

export const TERMINAL_STATUSES: readonly RequestStatus[] = ['REVOKED', 'DENIED', 'EXPIRED', 'CANCELLED', 'FAILED', 'EXTENDED'];

export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Open: the request still needs or holds access (what `/jit list` shows). Every status is either open or terminal. */
export const OPEN_STATUSES: readonly RequestStatus[] = ['PENDING', 'GRANTING', 'ACTIVE', 'REVOKING'];

export function isOpen(status: RequestStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

/** Slack users and user groups (subteam ids, S…), e.g. who approves a target. */
export interface Principals {
  users: string[];
  groups: string[];
  /** Every full member of the workspace (guests only with allowGuests); said explicitly, never a default. */
  everyone?: boolean;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/**
 * A weekly time window in a time zone: `from`–`to` (HH:MM, 24 h) on the given days. A window
 * whose `to` is not after `from` runs overnight into the next day (it belongs to the day it starts).
 */
export interface TimeWindow {
  days: Weekday[];
  from: string;
  to: string;
  /** IANA zone, e.g. Europe/London. */
  timezone: string;
}

/** What a deny or auto-approve rule applies to; every condition given must match. */
export interface RuleMatch {
  /** Target names; `*` matches any run of characters (`prod-*`). */
  targets?: string[];
  /** Target tags that must all be present with these values. */
  tags?: Record<string, string>;
  requesters?: Principals;
  window?: TimeWindow;
}

/** Refuses matching requests outright (checked before anything else, break-glass included). */
export interface DenyRule extends RuleMatch {
  name: string;
  /** Told to the requester, with the rule's name. */
  message?: string;
}

/** Grants matching requests without a human, up to its own maximum duration. */
export interface AutoApproveRule extends RuleMatch {
  name: string;
  maxDurationMs: number;
}

/** The effective approval policy of one target (its own keys over the top-level defaults). */
export interface TargetPolicy {
  approvers: Principals;
  /** Distinct approvers needed (the requester never counts). */
  approvalsRequired: number;
  /** Who may request the target; undefined means everyone. */
  requesters?: Principals;
  approvalTimeoutMs: number;
  /** Reminders to approvers while a request waits; undefined means none. */
  reminders?: { everyMs: number; dm: boolean };
  /** `/jit request … --break-glass` grants at once, alerts loudly, and asks for review. */
  breakGlass: boolean;
  /** Cap on a grant's total length, its extensions included. */
  maxTotalDurationMs: number;
  /** What a reason (of a request or an extension) must look like, e.g. start with a ticket key; undefined means free text. */
  reason?: ReasonRule;
}

/**
 * A target's reason requirement (config `reason: { pattern, message }` and `ticketUrl`), compiled
 * once at config load. src/domain/reason.ts applies it.
 */
export interface ReasonRule {
  /** The pattern as written in the config (policy:check shows it). */
  pattern: string;
  /** The pattern compiled (no flags, so `test` keeps no state). */
  regex: RegExp;
  /** What to write, in the operator's words: shown to a requester whose reason does not match. */
  message: string;
  /** `https://…{key}…`: the ticket key (the first match, or the group named `key`) URL-encoded in place of {key}. */
  ticketUrl?: string;
}

interface TargetBase {
  name: string;
  description?: string;
  region?: string;
  minDurationMs: number;
  maxDurationMs: number;
  /** Labels for policy rules (deny, auto-approve), e.g. ENV: prod. */
  tags: Record<string, string>;
  policy: TargetPolicy;
}

/**
 * A role the bot assumes to act in another account (a cross-account target): STS AssumeRole from
 * the bot's own credentials, with the external id the role's trust policy asks for.
 */
export interface AssumeRole {
  roleArn: string;
  externalId?: string;
}

export interface Ec2SshTarget extends TargetBase {
  kind: 'ec2-ssh';
  /** The group is in another account: the bot works there through this role. */
  assumeRole?: AssumeRole;
  securityGroupId: string;
  port: number;
  /** Host name or address shown in the "ssh …" hint of the grant DM. */
  host?: string;
  /** Login user shown in the "ssh …" hint of the grant DM. */
  sshUser?: string;
}

/** Temporary credentials for a role (STS AssumeRole), optionally narrowed by a session policy. */
export interface AwsRoleTarget extends TargetBase {
  kind: 'aws-role';
  roleArn: string;
  /** Inline session policy, minified JSON (≤ 2,048 characters). */
  sessionPolicy?: string;
  externalId?: string;
  /** The role is in another account: its IAM side (maximum session, deny policies) is reached through this role. */
  assumeRole?: AssumeRole;
}

/** Session Manager access to managed nodes, through credentials scoped to exactly those nodes. */
export interface SsmSessionTarget extends TargetBase {
  kind: 'ssm-session';
  instanceIds: string[];
  /** Nodes whose tags all match (e.g. ENV: dev), resolved with DescribeInstanceInformation. */
  nodeTags: Record<string, string>;
  documentName: string;
  /** The access role assumed for the session; the session policy narrows it to the nodes. */
  roleArn: string;
  externalId?: string;
  /** The nodes are in another account: SSM and the role's IAM side are reached through this role. */
  assumeRole?: AssumeRole;
}

/**
 * An IAM Identity Center permission set on one AWS account, assigned to the requester's Identity
 * Center user (found by their Slack email) for the grant's duration.
 */
export interface SsoPermissionSetTarget extends TargetBase {
  kind: 'sso-permission-set';
  /** arn:aws:sso:::instance/ssoins-… */
  instanceArn: string;
  /** d-… : the Identity Store of that instance (where users are looked up by email). */
  identityStoreId: string;
  /** arn:aws:sso:::permissionSet/ssoins-…/ps-… */
  permissionSetArn: string;
  /** The AWS accounts the permission set may be assigned on; a request picks among them (one approval for all it picks). */
  accountIds: string[];
  /** How many of accountIds one request may pick (default: all of them). A request that names none gets all when they fit, else must pick. */
  accountsPerRequest: number;
  /** The AWS access portal (https://d-….awsapps.com/start), shown in the grant DM. */
  portalUrl?: string;
  /** At the end, deny the user's portal sessions issued before it (the permission set's inline policy: src/aws/sso-session-deny.ts). */
  endSessions: boolean;
}

export type Target = Ec2SshTarget | AwsRoleTarget | SsmSessionTarget | SsoPermissionSetTarget;

/** Kinds whose grants are STS sessions. */
export function isStsKind(kind: AccessKind): kind is 'aws-role' | 'ssm-session' {
  return kind === 'aws-role' || kind === 'ssm-session';
}

/** The accounts a request may pick among, for a target that lists them (Identity Center); undefined for the others. */
export function accountChoices(target: Target): { accountIds: readonly string[]; perRequest: number } | undefined {
  return 'accountIds' in target ? { accountIds: target.accountIds, perRequest: target.accountsPerRequest } : undefined;
}

/** Kinds whose requests name one source address (a /32 or /128) that the grant opens to. */
export function takesAddress(kind: AccessKind): kind is 'ec2-ssh' {
  return kind === 'ec2-ssh';
}

/** A single host address in CIDR form: a.b.c.d/32 or an IPv6 /128, normalised. */
export interface HostCidr {
  cidr: string;
  address: string;
  family: 4 | 6;
}

/** What the AWS provider created for a request; enough to revoke it by id. */
export interface Ec2Grant {
  kind: 'ec2-ssh';
  region: string;
  securityGroupId: string;
  securityGroupRuleId: string;
  cidr: string;
  port: number;
  /** The rule is in another account, reached through this role (revocation works from it, whatever the target becomes). */
  assumeRole?: AssumeRole;
  /**
   * True when the rule already existed, created by this bot for another live request with the
   * same group, port and address: the two grants share it, and it is removed only when the last
   * of them ends.
   */
  shared?: boolean;
}

/** The STS session behind a role-backed grant (what the audit and the deny policy need). */
export interface StsSession {
  region: string;
  roleArn: string;
  /** The role's unique id (AROA…); aws:userid of the session is "<roleId>:<roleSessionName>". */
  roleId: string;
  roleSessionName: string;
  sourceIdentity: string;
  assumedRoleArn: string;
  /** Lifetime of credentials issued for this grant, after clamping to STS and the role's maximum. */
  durationSeconds: number;
  /** Set when the approved duration did not fit STS or the role's maximum session. */
  clamped?: 'min' | 'max';
  /** The role is in another account, whose IAM (and SSM) the bot reaches through this role. */
  assumeRole?: AssumeRole;
}

export interface RoleGrant extends StsSession {
  kind: 'aws-role';
}

export interface SsmGrant extends StsSession {
  kind: 'ssm-session';
  /** The nodes the session policy names one by one (grants before tag conditions: every resolved node). */
  instanceIds: string[];
  /** The nodes the session policy reaches by tag (ssm:resourceTag), when the target selects by tags. */
  nodeTags?: Record<string, string>;
  /** Some of the nodes the tags matched at grant time (for the DM's connect command). */
  sampleNodes?: string[];
  documentName: string;
}

/** An Identity Center account assignment made for a request. */
export interface SsoGrant {
  kind: 'sso-permission-set';
  /** The Identity Center instance's Region. */
  region: string;
  instanceArn: string;
  permissionSetArn: string;
  /** The accounts assigned for this grant (and deleted at its end). */
  accountIds: string[];
  /** Accounts where the user already held the permission set (standing access): not granted, never deleted. */
  standing?: string[];
  /** The requester's Identity Center user id (the assignment's principal). */
  principalId: string;
  /** The email it was found by. */
  email: string;
  /** The permission set's session duration (ISO 8601, e.g. PT1H): how long a portal session opened before the end may outlive it. */
  sessionDuration?: string;
  /** The target had endSessions when granted: the end denies the user's earlier sessions (recorded so the end does it whatever the target says by then). */
  endSessions?: true;
}

export type Grant = Ec2Grant | RoleGrant | SsmGrant | SsoGrant;

/** Credentials shown once in a modal; never stored, logged or posted as a message. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO time the credentials stop working. */
  expiration: string;
  region: string;
  assumedRoleArn: string;
}

/** A security-group ingress rule as found in AWS, for the drift sweep. */
export interface ObservedRule {
  region: string;
  /** In another account, reached through this role. */
  assumeRole?: AssumeRole;
  securityGroupId: string;
  securityGroupRuleId: string;
  /** Carries this bot's managed-by tag. */
  managed: boolean;
  /** The request id tag, when present. */
  requestId?: string;
  cidr?: string;
  fromPort?: number;
  toPort?: number;
  protocol?: string;
  description?: string;
}

/** Why an ACTIVE grant ended. */
export type EndReason = 'expired' | 'revoked';

export interface AuditEntry {
  /** ISO-8601 time of the transition. */
  at: string;
  /** Slack user id of the human, or "system" for the scheduler. */
  actor: string;
  action: string;
  from: RequestStatus | null;
  to: RequestStatus;
  /** AWS ids and other facts of the step (rule id, group id, error text). */
  details?: Record<string, string>;
}

/** The messages the core asks the messaging adapter to deliver. Rendering is the adapter's job. */
export const NOTIFICATION_KINDS = [
  'approval.post', // post the approval message (Approve / Deny) to the approver channel
  'approval.update', // re-render the approval message in place for the current state
  'dm.submitted', // requester: your request was sent for approval (used for modal submissions)
  'dm.granted',
  'dm.denied',
  'dm.timeout', // nobody approved before the approval deadline
  'dm.warning', // access ends soon
  'dm.ended', // access was revoked (expiry or early revoke)
  'dm.failed', // grant failed
  'dm.extended', // requester: the grant's expiry moved (an extension was approved)
  'approval.reminder', // approvers: a request is still waiting (thread reply, DMs when configured)
  'channel.break-glass', // approver channel: loud (@here) alert that break-glass access was taken
  'channel.audit', // audit channel (when configured): one line for one transition (carries `entry`)
  'home.refresh', // re-publish the requester's App Home
  'thread.revoked', // in the approval message's thread: revoked and verified (with the AWS ids)
  'channel.alert', // something needs a human in the approver channel
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface Notification {
  id: string;
  kind: NotificationKind;
  createdAt: string;
  /** Extra text some kinds carry (alert text, failure reason). Already plain text; escape when rendering. */
  text?: string;
  /** What the notification says, as a code and parameters (channel.alert); blocks/ renders it. Older items carry `text`. */
  problem?: Problem;
  /** channel.audit: the transition's audit record, as written in the same write. */
  entry?: AuditEntry;
  /** home.refresh: whose home (default: the requester's). */
  userId?: string;
  attempts?: number;
  /**
   * Written by the store's delivery claim (RequestStore.claimNotifications): the replica sending
   * it and until when. Still there on a later read means that pass ended without recording it
   * sent (a crash, a failure): it may have reached Slack.
   */
  claimedBy?: string;
  claimUntil?: number;
}

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

/** One approver's yes. `durationMs` is set when they approved for less than was asked. */
export interface Approval {
  by: string;
  at: string;
  comment?: string;
  durationMs?: number;
}

/** Time an approved extension added to a grant. */
export interface Extension {
  id: string;
  durationMs: number;
  at: string;
}

/** How a request got its yes. */
export type ApprovalRoute = 'approvers' | 'auto' | 'break-glass';

/** A ticket named in a reason: its key, and the link made from the target's ticketUrl. */
export interface Ticket {
  key: string;
  url?: string;
}

export interface AccessRequest {
  id: string;
  version: number;
  status: RequestStatus;
  kind: AccessKind;
  targetName: string;
  requesterId: string;
  reason: string;
  /** The ticket the reason names, when the target's reason rule has a ticketUrl or a `key` group (src/domain/reason.ts ticketOf). */
  ticket?: Ticket;
  /** Requested (and approved) length of access, in milliseconds. */
  durationMs: number;
  /** The requester's address as a /32 or /128 CIDR (ec2-ssh). */
  cidr?: string;
  /** The accounts this request is for, picked among its target's (sso-permission-set); the grant assigns exactly these. */
  accounts?: string[];
  createdAt: string;
  approvalDeadline: string;
  /** The approvals so far (quorum), oldest first. */
  approvals?: Approval[];
  /** Distinct approvals the policy asked for when the request was last decided on. */
  approvalsRequired?: number;
  /** Who made the final decision (the approver whose yes completed the quorum, the denier, or "policy"). */
  decidedBy?: string;
  decidedAt?: string;
  /** The note the denier left (approvers' notes are on their approvals). */
  decisionComment?: string;
  /** What the requester asked for, when an approver narrowed `durationMs`. */
  requestedDurationMs?: number;
  approvedVia?: ApprovalRoute;
  /** The auto-approve rule that granted it. */
  policyRule?: string;
  /** Break-glass: granted without approval; flagged until an approver marks it reviewed. */
  breakGlass?: boolean;
  reviewedBy?: string;
  reviewedAt?: string;
  /** Reminders sent to approvers so far. */
  remindersSent?: number;
  /** Extension requests: the id of the grant whose expiry this extends. */
  extends?: string;
  /** On a grant: the extensions applied to it, oldest first. */
  extensions?: Extension[];
  grantedAt?: string;
  /** When access ends. Set at grant: the clock starts at grant, not at request. */
  expiresAt?: string;
  /** When the expiry-warning DM is due (set at grant). */
  warnAt?: string;
  warned?: boolean;
  /**
   * DynamoDB TTL (epoch seconds): set by the transition that resolves the request (terminal status),
   * `retention` after it. Never on a live request: TTL is not revocation.
   */
  purgeAt?: number;
  endedAt?: string;
  endedBy?: string;
  endReason?: EndReason;
  grant?: Grant;
  /** The failure code of the last failed AWS attempt (FailureCode); AWS's own message is only in the audit and the log. */
  failure?: string;
  /** The reference people quote for that failure: the audit record and the log carry it with the raw message. */
  failureRef?: string;
  /** Set when the policy, decided again at an approval, a grant attempt or an extension, refused the request (DENIED by "policy"). */
  refusal?: { code: RefusalCode; rule?: string };
  /** Failed AWS attempts of the current intent (GRANTING or REVOKING); drives backoff and alerts. */
  attempts?: number;
  /** Set when revoking kept failing past the retry budget and humans were alerted (retries go on). */
  flagged?: boolean;
  /** How the revoke ended: verified gone in AWS, or released because other grants still hold a shared rule. */
  revokeOutcome?: 'verified' | 'released';
  /** Scheduling: when the sweeper should next look at this request (epoch ms). Absent when terminal. */
  dueAt?: number;
  /** Lease of the replica currently working on an intent state. */
  leaseOwner?: string;
  approvalMessage?: SlackMessageRef;
  audit: AuditEntry[];
  /** Notifications not yet delivered, keyed by notification id. */
  outbox: Record<string, Notification>;
}

/** The AWS ids of a grant, for its audit records. */
export function grantAuditIds(grant: Grant): Record<string, string> {
  switch (grant.kind) {
    case 'ec2-ssh':
      return { region: grant.region, securityGroupId: grant.securityGroupId, securityGroupRuleId: grant.securityGroupRuleId, cidr: grant.cidr, port: String(grant.port), ...(grant.shared ? { shared: 'true' } : {}) };
    case 'aws-role':
    case 'ssm-session':
      return {
        region: grant.region,
        roleArn: grant.roleArn,
        assumedRoleArn: grant.assumedRoleArn,
        roleSessionName: grant.roleSessionName,
        sourceIdentity: grant.sourceIdentity,
        durationSeconds: String(grant.durationSeconds),
        ...(grant.clamped ? { clamped: grant.clamped } : {}),
        ...(grant.kind === 'ssm-session' ? { instanceIds: grant.instanceIds.join(','), ...(grant.nodeTags ? { nodeTags: Object.entries(grant.nodeTags).map(([k, v]) => `${k}=${v}`).join(',') } : {}), documentName: grant.documentName } : {}),
      };
    case 'sso-permission-set':
      return {
        region: grant.region,
        instanceArn: grant.instanceArn,
        permissionSetArn: grant.permissionSetArn,
        accountIds: grant.accountIds.join(','),
        ...(grant.standing?.length ? { standing: grant.standing.join(',') } : {}),
        principalId: grant.principalId,
        ...(grant.sessionDuration ? { sessionDuration: grant.sessionDuration } : {}),
        ...(grant.endSessions ? { endSessions: 'true' } : {}),
      };
  }
}

/** What the App Home shows one user, as the core decided it (blocks/home.ts renders it). */
export interface HomeContents {
  userId: string;
  /** The core's clock when it was read (time left is counted from it). */
  at: string;
  /** The user's ACTIVE grants, soonest ending first. */
  active: AccessRequest[];
  /** Of those, the ids whose expiry warning would offer Extend (live, target unchanged, headroom left). */
  extendable: string[];
  /** The user's own PENDING requests, newest first. */
  pending: AccessRequest[];
  /** PENDING requests of others that the user may approve or deny now, soonest deadline first. */
  waiting: AccessRequest[];
  /** More were waiting than are shown. */
  waitingMore: boolean;
}
