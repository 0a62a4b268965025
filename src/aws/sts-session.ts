/**
 * What the role-backed kinds ("aws-role", "ssm-session") share: naming the STS session after the
 * human and the request, fitting its duration to STS and the role, assuming the role, and taking
 * access back.
 *
 * STS credentials cannot be recalled. Every credential issued for a grant carries the same role
 * session name, "<human>.<request id>", so AWS sees each of them as aws:userid
 * "<role id>:<human>.<request id>". Revoking adds that grant to the ONE deny policy the bot keeps
 * on the role ("jit-deny"): a Deny of everything for aws:userid like "*.<request id>" (16
 * characters: the request id is random and unique), in a statement whose Sid carries when the
 * last of those credentials can have expired, rounded up to a 6-hour bucket
 * (JitDenyUntil<time>), so the policy holds a handful of statements however many grants end.
 * Each write is a read-modify-write under a lease per role (the store's, across replicas), for
 * every grant of that role waiting to be denied at the time (one write for many), dropping the
 * buckets that have passed, then read back; the drift sweep drops passed buckets too
 * and deletes the policy once it is empty. Bound: IAM allows 10,240 characters of inline policy
 * per role; at 19 characters per entry that is about 500 grants ended early on one role within
 * its maximum session (plus up to 6 hours), less whatever other inline policies the role has.
 * Roles may still carry the per-grant "jit-deny-<request id>" policies of earlier versions: they
 * keep working, and the sweep deletes each once its time has passed.
 */
import { createHash } from 'node:crypto';
import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import { GrantError, ValidationError } from '../domain/errors';
import { inlinePolicySize, normaliseSessionPolicy, ROLE_INLINE_POLICY_LIMIT } from '../domain/session-policy';
import { STS_MAX_DURATION_MS, STS_MIN_DURATION_MS, type AccessRequest, type AssumeRole, type IssuedCredentials, type StsSession, type Target } from '../domain/types';
import { systemClock, type Clock, type RevokeResult } from '../ports';
import { awsErrorCode, awsFailure, isRetryableAwsError } from './retry';

const STS_MIN_SECONDS = STS_MIN_DURATION_MS / 1000;
const STS_MAX_SECONDS = STS_MAX_DURATION_MS / 1000;
/** STS limits RoleSessionName and SourceIdentity to 64 characters of this set. */
const STS_NAME_MAX = 64;
const STS_NAME_INVALID = /[^\w+=,.@-]/g;
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;
const ROLE_MAX_CACHE_MS = 5 * 60_000;
const DENY_PREFIX = 'jit-deny-';
const DENY_SID = /^JitDenyUntil(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** The one deny policy the bot keeps on each target role (see the header). */
export const ROLE_DENY_POLICY = 'jit-deny';
/** Its statements' ends are rounded up to a multiple of this (UTC): a handful of statements per role. */
export const DENY_BUCKET_MS = 6 * 3_600_000;
/** How long a revoke waits for another writer of the same role's deny policy before it retries later. */
const DENY_LEASE_MS = 30_000;

// ------------------------------------------------------------------ pure helpers

/**
 * The RoleSessionName of a grant: "<human>.<request id>", e.g. "alice.jit-7k3m9q2xab". The human is
 * the email's local part when the source identity is an email, else the Slack user id. Only the
 * human part is ever shortened: the request id is what makes the name (and the deny) unique.
 */
export function roleSessionName(requesterId: string, sourceIdentity: string, requestId: string): string {
  const id = stsChars(requestId);
  const room = STS_NAME_MAX - id.length - 1;
  if (room < 1) throw new RangeError(`request id ${requestId} leaves no room for a name in an STS session name`);
  const at = sourceIdentity.lastIndexOf('@');
  const human = (at > 0 ? stsChars(sourceIdentity.slice(0, at)) : '') || stsChars(requesterId) || 'user';
  return `${human.slice(0, room)}.${id}`;
}

/** STS SourceIdentity: `value` (the email) when STS accepts it, else `fallback` (the Slack user id). */
export function sanitizeSourceIdentity(value: string, fallback: string): string {
  if (SOURCE_IDENTITY.test(value)) return value;
  if (SOURCE_IDENTITY.test(fallback)) return fallback;
  return stsChars(fallback).slice(0, STS_NAME_MAX).padEnd(2, '_');
}

/** A requested length of access in STS terms: at least 15 minutes, at most the role's maximum and 12 hours. */
export function clampDuration(requestedMs: number, roleMaxSeconds: number): { seconds: number; clamped?: 'min' | 'max' } {
  const max = Math.max(STS_MIN_SECONDS, Math.min(roleMaxSeconds, STS_MAX_SECONDS));
  const seconds = Math.floor(requestedMs / 1000);
  if (seconds < STS_MIN_SECONDS) return { seconds: STS_MIN_SECONDS, clamped: 'min' };
  if (seconds > max) return { seconds: max, clamped: 'max' };
  return { seconds };
}

/**
 * Throws ValidationError unless `json` is an IAM policy object (Version, Statement) of at most
 * 2,048 characters once minified, which is what STS accepts as an inline session policy.
 */
export function validateSessionPolicy(json: string): void {
  normaliseSessionPolicy(json);
}

/** The per-grant deny policy of earlier versions (what the sweep still recognises and deletes): its name. */
export function denyPolicyName(requestId: string): string {
  return `${DENY_PREFIX}${requestId}`;
}

/** The per-grant deny policy of earlier versions: every credential issued under one session name, until `until`. */
export function denyPolicyDocument(roleId: string, roleSessionName: string, until: Date): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: `JitDenyUntil${compactTime(until)}`,
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { StringLike: { 'aws:userid': `${roleId}:${roleSessionName}` } },
      },
    ],
  });
}

/** The aws:userid pattern that matches every credential of a grant (its session name ends with ".<request id>"). */
export function denyEntry(requestId: string): string {
  return `*.${stsChars(requestId)}`;
}

/** The bucket a deny lasting until `until` goes in: `until` rounded up to DENY_BUCKET_MS. */
export function denyBucket(until: Date): Date {
  return new Date(Math.ceil(until.getTime() / DENY_BUCKET_MS) * DENY_BUCKET_MS);
}

/** The entries of a role deny document by bucket end (ms); statements not of ours are ignored. */
export function roleDenyEntries(document: string | undefined): Map<number, Set<string>> {
  const buckets = new Map<number, Set<string>>();
  if (!document) return buckets;
  for (const statement of statements(document)) {
    const m = typeof statement.Sid === 'string' ? DENY_SID.exec(statement.Sid) : null;
    const users = statement.Condition?.StringLike?.['aws:userid'];
    if (!m || statement.Effect !== 'Deny' || users === undefined) continue;
    const until = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
    const set = buckets.get(until) ?? new Set<string>();
    for (const u of Array.isArray(users) ? users : [users]) set.add(String(u));
    buckets.set(until, set);
  }
  return buckets;
}

/** The role deny document of these buckets (earliest first; entries sorted, so equal contents give equal documents). */
export function roleDenyDocument(buckets: ReadonlyMap<number, ReadonlySet<string>>): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [...buckets.entries()]
      .filter(([, entries]) => entries.size > 0)
      .sort(([a], [b]) => a - b)
      .map(([until, entries]) => ({
        Sid: `JitDenyUntil${compactTime(new Date(until))}`,
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { StringLike: { 'aws:userid': [...entries].sort() } },
      })),
  });
}

/**
 * `document` with every entry denied until at least its `until`, and the buckets that ended by
 * `now` dropped. An entry already in a bucket that lasts long enough is left where it is.
 */
export function withDenied(document: string | undefined, denies: ReadonlyArray<{ entry: string; until: Date }>, now: Date): Map<number, Set<string>> {
  const buckets = roleDenyEntries(document);
  for (const end of [...buckets.keys()]) if (end <= now.getTime()) buckets.delete(end);
  for (const { entry, until } of denies) {
    if ([...buckets].some(([end, entries]) => end >= until.getTime() && entries.has(entry))) continue;
    const end = denyBucket(until).getTime();
    buckets.set(end, (buckets.get(end) ?? new Set<string>()).add(entry));
  }
  return buckets;
}

/** The latest end for which `document` denies `entry`; undefined when it does not. */
export function deniedUntil(document: string | undefined, entry: string): Date | undefined {
  const ends = [...roleDenyEntries(document)].filter(([, entries]) => entries.has(entry)).map(([end]) => end);
  return ends.length > 0 ? new Date(Math.max(...ends)) : undefined;
}

/** The time stamped into a deny document's Sid; undefined when the document is not one of ours. */
export function denyUntil(document: string): Date | undefined {
  for (const statement of statements(document)) {
    const m = typeof statement.Sid === 'string' ? DENY_SID.exec(statement.Sid) : null;
    if (m) return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  }
  return undefined;
}

/**
 * True for the deny policies this bot writes: a `jit-deny-*` name, and every statement a Deny of
 * everything with our Sid. Anything else on a managed role is someone else's (or an attacker's).
 */
export function isOwnDeny(name: string, document: string): boolean {
  const list = statements(document);
  return (name === ROLE_DENY_POLICY || name.startsWith(DENY_PREFIX)) && list.length > 0 && list.every((s) => s.Effect === 'Deny' && s.Action === '*' && s.Resource === '*' && typeof s.Sid === 'string' && DENY_SID.test(s.Sid));
}

/** Partition and account of an ARN ("arn:aws:iam::123456789012:role/x" → aws, 123456789012). */
export function arnParts(arn: string): { partition: string; account: string } {
  const [, partition = 'aws', , , account = ''] = arn.split(':');
  return { partition, account };
}

/** The AWS error code without the SDK's "Exception" suffix: NoSuchEntity, AccessDenied, Throttling. */
export function errorCode(err: unknown): string {
  return awsErrorCode(err).replace(/Exception$/, '');
}


/** A grant cannot answer the requester: what would be a ValidationError up front is a permanent GrantError here. */
export function asGrantError(err: unknown): unknown {
  return err instanceof ValidationError ? new GrantError(err.message) : err;
}

/** The target of `kind` named by the request, as configured now; GrantError when it is gone or changed kind. */
export function configuredTarget<K extends Target['kind']>(target: Target | undefined, request: AccessRequest, kind: K): Extract<Target, { kind: K }> {
  if (!target) throw new GrantError(`target ${request.targetName} of ${request.id} is no longer configured`);
  return expectKind(target, kind);
}

/** Narrows a target to `kind`; a provider handed another kind's target is a wiring bug. */
export function expectKind<K extends Target['kind']>(target: Target, kind: K): Extract<Target, { kind: K }> {
  if (target.kind !== kind) throw new GrantError(`target ${target.name} is ${target.kind}, not ${kind}`);
  return target as Extract<Target, { kind: K }>;
}

/** Why a deny that AWS does not confirm is not accepted (the revoke is retried). */
export function unverifiedDeny(grant: Pick<StsSession, 'roleSessionName' | 'roleArn'>): string {
  return `AWS does not yet confirm that ${grant.roleSessionName} on ${grant.roleArn} is denied (or could not be asked)`;
}

/** The distinct role ARNs of the targets of `kind` (what their housekeeping covers). */
export function roleArnsOf(targets: Target[], kind: 'aws-role' | 'ssm-session'): string[] {
  return [...new Set(targets.flatMap((t) => (t.kind === kind ? [t.roleArn] : [])))];
}

/** A target role, and the role the bot reaches its account through when it is in another one. */
export interface RoleRef {
  roleArn: string;
  assumeRole?: AssumeRole;
}

/** The distinct roles of the targets of `kind`, each with how its account is reached. */
export function rolesOf(targets: Target[], kind: 'aws-role' | 'ssm-session'): RoleRef[] {
  const byArn = new Map<string, RoleRef>();
  for (const t of targets) if (t.kind === kind && !byArn.has(t.roleArn)) byArn.set(t.roleArn, { roleArn: t.roleArn, ...(t.assumeRole ? { assumeRole: t.assumeRole } : {}) });
  return [...byArn.values()];
}

// ------------------------------------------------------------------ the AWS side

export interface AssumeInput {
  region: string;
  roleArn: string;
  roleSessionName: string;
  sourceIdentity: string;
  durationSeconds: number;
  /** Inline session policy (JSON); minified and checked before the call. */
  policy?: string;
  externalId?: string;
}

export interface AssumedSession {
  credentials: IssuedCredentials;
  assumedRoleArn: string;
  /** The role's unique id (AROA…). */
  roleId: string;
}

/** A grant waiting for its role's next deny write. */
interface QueuedDeny {
  requestId: string;
  entry: string;
  until: Date;
  resolve: (result: RevokeResult) => void;
  reject: (err: unknown) => void;
}

/** What a grant asks of STS, in the terms of the request. */
export interface SessionPlan {
  requestId: string;
  requesterId: string;
  /** The raw source identity from the grant context (email or Slack user id). */
  sourceIdentity: string;
  durationMs: number;
  region: string;
  roleArn: string;
  externalId?: string;
  /** The role is in another account: its IAM side (maximum session, deny policies) is reached through this. */
  assumeRole?: AssumeRole;
  /** The session policy for a session name (some kinds scope it to the session's own resources). */
  policyFor?: (roleSessionName: string) => string | undefined;
}

/** How credentials are re-issued for a grant: the same narrowing as at grant time. */
export interface SessionAccess {
  policy?: string;
  externalId?: string;
}

export class StsSessions {
  private readonly roleMax = new Map<string, { seconds: number; at: number }>();
  /** Foreign inline policies already reported (role, name, content hash). */
  private readonly reportedForeign = new Set<string>();

  constructor(
    private readonly stsFor: (region: string) => STSClient,
    private readonly iam: IAMClient,
    private readonly clock: Clock = systemClock,
    /** IAM in another account, through the role a target names there (cross-account targets). */
    private readonly iamVia?: (via: AssumeRole) => IAMClient,
    /** A named lease across replicas (the store's), around each read-modify-write of a role's deny policy. */
    private readonly lease?: { take(name: string, forMs: number): Promise<boolean>; release(name: string): Promise<void> },
  ) {}

  /** Writers of one role's deny policy in this process, one after another (the lease covers other processes). */
  private readonly writing = new Map<string, Promise<unknown>>();

  /** Runs `work` as the only writer of the role's deny policy (here, and across replicas through the lease). */
  private async exclusively<T>(roleArn: string, work: () => Promise<T>): Promise<T> {
    const previous = this.writing.get(roleArn) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      const name = `iam-deny#${roleArn}`;
      if (this.lease && !(await this.lease.take(name, DENY_LEASE_MS))) {
        throw new GrantError(`the deny policy of ${roleArn} is being changed for another grant; retrying`, true);
      }
      try {
        return await work();
      } finally {
        if (this.lease) await this.lease.release(name).catch(() => undefined);
      }
    });
    this.writing.set(roleArn, run);
    try {
      return await run;
    } finally {
      if (this.writing.get(roleArn) === run) this.writing.delete(roleArn);
    }
  }

  /** IAM of the bot's own account, or (with `via`) of the account a target reaches through it. */
  private iamOf(via: AssumeRole | undefined): IAMClient {
    if (!via) return this.iam;
    if (!this.iamVia) throw new GrantError(`no IAM client for roles reached through ${via.roleArn}`);
    return this.iamVia(via);
  }

  /** The role's MaxSessionDuration (IAM GetRole), cached for 5 minutes. ValidationError when the role does not exist. */
  async roleMaxSeconds(roleArn: string, via?: AssumeRole): Promise<number> {
    const now = this.clock.now().getTime();
    const cached = this.roleMax.get(roleArn);
    if (cached && now - cached.at < ROLE_MAX_CACHE_MS) return cached.seconds;
    let seconds: number;
    try {
      const out = await this.iamOf(via).send(new GetRoleCommand({ RoleName: roleName(roleArn) }));
      seconds = out.Role?.MaxSessionDuration ?? 3_600;
    } catch (err) {
      if (errorCode(err) === 'NoSuchEntity') throw new ValidationError('plain', { text: `role ${roleArn} does not exist` }, 'target');
      throw awsFailure(err, `Reading role ${roleArn}`, 'the bot needs iam:GetRole on the role');
    }
    this.roleMax.set(roleArn, { seconds, at: now });
    return seconds;
  }

  async assume(input: AssumeInput): Promise<AssumedSession> {
    const policy = sessionPolicy(input);
    let out: AssumeRoleCommandOutput;
    try {
      out = await this.stsFor(input.region).send(
        new AssumeRoleCommand({
          RoleArn: input.roleArn,
          RoleSessionName: input.roleSessionName,
          SourceIdentity: input.sourceIdentity,
          DurationSeconds: input.durationSeconds,
          Policy: policy,
          ExternalId: input.externalId,
        }),
      );
    } catch (err) {
      throw assumeFailure(err, input);
    }
    const c = out.Credentials;
    const assumedRoleArn = out.AssumedRoleUser?.Arn;
    const roleId = out.AssumedRoleUser?.AssumedRoleId?.split(':')[0];
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration || !assumedRoleArn || !roleId) {
      throw new GrantError(`STS assumed ${input.roleArn} as ${input.roleSessionName} but returned no complete credentials`, true);
    }
    return {
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration.toISOString(),
        region: input.region,
        assumedRoleArn,
      },
      assumedRoleArn,
      roleId,
    };
  }

  /**
   * Adds the grant to the role's deny policy (until at least `until`), dropping the buckets that
   * have passed, then reads it back: verified only when the read-back denies the grant until then.
   * The grants ending on one role at the same time share one write: a revoke joins the batch
   * waiting for the role's next write (one writer per role at a time: see exclusively), so a
   * thousand grants of one role expiring together cost a few read-modify-writes, not a thousand.
   * A role that no longer exists counts as denied: nothing can act as it.
   */
  denySession(roleArn: string, requestId: string, until: Date, via?: AssumeRole): Promise<RevokeResult> {
    return new Promise((resolve, reject) => {
      const queue = this.denyQueue.get(roleArn) ?? [];
      queue.push({ requestId, entry: denyEntry(requestId), until, resolve, reject });
      this.denyQueue.set(roleArn, queue);
      this.drainDenies(roleArn, via);
    });
  }

  /** Grants waiting for their role's next deny write, by role. */
  private readonly denyQueue = new Map<string, QueuedDeny[]>();
  private readonly draining = new Set<string>();

  /** Writes the role's waiting denies, a batch at a time, until none is left. */
  private drainDenies(roleArn: string, via?: AssumeRole): void {
    if (this.draining.has(roleArn)) return;
    this.draining.add(roleArn);
    void (async () => {
      try {
        for (let batch = this.takeBatch(roleArn); batch.length > 0; batch = this.takeBatch(roleArn)) {
          try {
            const results = await this.exclusively(roleArn, () => this.writeDenies(roleArn, batch, via));
            batch.forEach((d, i) => d.resolve(results[i]!));
          } catch (err) {
            for (const d of batch) d.reject(err);
          }
        }
      } finally {
        this.draining.delete(roleArn);
        // A revoke that arrived as the last batch ended starts the next drain.
        if ((this.denyQueue.get(roleArn)?.length ?? 0) > 0) this.drainDenies(roleArn, via);
      }
    })();
  }

  private takeBatch(roleArn: string): QueuedDeny[] {
    const batch = this.denyQueue.get(roleArn) ?? [];
    this.denyQueue.delete(roleArn);
    return batch;
  }

  /** One read-modify-write of the role's deny policy for a batch; a result per grant, in order. */
  private async writeDenies(roleArn: string, batch: readonly QueuedDeny[], via?: AssumeRole): Promise<RevokeResult[]> {
    const RoleName = roleName(roleArn);
    const ids = batch.map((d) => d.requestId).join(', ');
    const gone = () => batch.map((): RevokeResult => ({ removed: false, verified: true }));
    let current: string | undefined;
    try {
      current = await this.rolePolicyOrFail(RoleName, ROLE_DENY_POLICY, via);
    } catch (err) {
      if (errorCode(err) === 'NoSuchEntity') return gone();
      throw awsFailure(err, `Reading ${ROLE_DENY_POLICY} of ${roleArn}`, IAM_HINTS[errorCode(err)]);
    }
    const document = roleDenyDocument(withDenied(current, batch, this.clock.now()));
    if (inlinePolicySize(document) > ROLE_INLINE_POLICY_LIMIT) {
      throw new GrantError(`${ROLE_DENY_POLICY} on ${roleArn} would be ${inlinePolicySize(document)} characters with ${ids}, over IAM's ${ROLE_INLINE_POLICY_LIMIT} for a role's inline policies; retrying once older entries lapse`, true);
    }
    if (document !== current) {
      try {
        await this.iamOf(via).send(new PutRolePolicyCommand({ RoleName, PolicyName: ROLE_DENY_POLICY, PolicyDocument: document }));
      } catch (err) {
        if (errorCode(err) === 'NoSuchEntity') return gone();
        throw awsFailure(err, `Denying the sessions of ${ids} on ${roleArn}`, IAM_HINTS[errorCode(err)]);
      }
    }
    const back = await this.rolePolicyOrFail(RoleName, ROLE_DENY_POLICY, via).catch(() => undefined);
    return batch.map((d) => ({ removed: true, verified: (deniedUntil(back, d.entry)?.getTime() ?? 0) >= d.until.getTime() }));
  }

  /** The decoded policy, undefined when the role has no such policy; throws (NoSuchEntity for a missing role) otherwise. */
  private async rolePolicyOrFail(RoleName: string, PolicyName: string, via?: AssumeRole): Promise<string | undefined> {
    try {
      const out = await this.iamOf(via).send(new GetRolePolicyCommand({ RoleName, PolicyName }));
      return decodeURIComponent(out.PolicyDocument ?? '');
    } catch (err) {
      if (errorCode(err) === 'NoSuchEntity' && (await this.roleExists(RoleName, via))) return undefined;
      throw err;
    }
  }

  private async roleExists(RoleName: string, via?: AssumeRole): Promise<boolean> {
    try {
      await this.iamOf(via).send(new GetRoleCommand({ RoleName }));
      return true;
    } catch (err) {
      if (errorCode(err) === 'NoSuchEntity') return false;
      throw err;
    }
  }

  /**
   * Drops the passed buckets of the role's deny policy (deleting it once empty), and deletes the
   * per-grant jit-deny-* policies of earlier versions whose credentials have all expired; returns
   * what it removed.
   */
  async cleanupDenies(roleArn: string, now: Date, names?: string[], via?: AssumeRole): Promise<string[]> {
    const RoleName = roleName(roleArn);
    const removed: string[] = [];
    const listed = names ?? (await this.inlinePolicyNames(roleArn, via));
    if (listed.includes(ROLE_DENY_POLICY)) {
      const pruned = await this.exclusively(roleArn, async () => {
        const document = await this.rolePolicy(roleArn, ROLE_DENY_POLICY, via);
        if (document === undefined || !isOwnDeny(ROLE_DENY_POLICY, document)) return [];
        const buckets = roleDenyEntries(document);
        const passed = [...buckets.keys()].filter((end) => end <= now.getTime());
        if (passed.length === 0) return [];
        const entries = passed.reduce((n, end) => n + buckets.get(end)!.size, 0);
        for (const end of passed) buckets.delete(end);
        try {
          if (buckets.size === 0) await this.iamOf(via).send(new DeleteRolePolicyCommand({ RoleName, PolicyName: ROLE_DENY_POLICY }));
          else await this.iamOf(via).send(new PutRolePolicyCommand({ RoleName, PolicyName: ROLE_DENY_POLICY, PolicyDocument: roleDenyDocument(buckets) }));
        } catch (err) {
          if (errorCode(err) !== 'NoSuchEntity') throw awsFailure(err, `Pruning ${ROLE_DENY_POLICY} of ${roleArn}`, IAM_HINTS[errorCode(err)]);
        }
        return [`${ROLE_DENY_POLICY} (${entries} expired ${entries === 1 ? 'entry' : 'entries'}${buckets.size === 0 ? ', now empty' : ''})`];
      });
      removed.push(...pruned);
    }
    for (const PolicyName of listed.filter((n) => n.startsWith(DENY_PREFIX))) {
      const document = await this.rolePolicy(roleArn, PolicyName, via);
      // Only our own deny (a Deny-only document with our Sid) is ever deleted; anything else is reported.
      if (document === undefined || !isOwnDeny(PolicyName, document)) continue;
      const until = denyUntil(document);
      if (!until || until.getTime() >= now.getTime()) continue;
      try {
        await this.iamOf(via).send(new DeleteRolePolicyCommand({ RoleName, PolicyName }));
        removed.push(PolicyName);
      } catch (err) {
        if (errorCode(err) !== 'NoSuchEntity') throw awsFailure(err, `Deleting ${PolicyName} from ${roleArn}`, IAM_HINTS[errorCode(err)]);
      }
    }
    return removed;
  }

  // ---------------------------------------------------------------- what the providers call

  /** Assumes the role for a new grant (the credentials are dropped: they prove the role works) and describes the session. */
  async open(plan: SessionPlan): Promise<StsSession> {
    try {
      const { seconds, clamped } = clampDuration(plan.durationMs, await this.roleMaxSeconds(plan.roleArn, plan.assumeRole));
      const sourceIdentity = sanitizeSourceIdentity(plan.sourceIdentity, plan.requesterId);
      const name = roleSessionName(plan.requesterId, plan.sourceIdentity, plan.requestId);
      const { assumedRoleArn, roleId } = await this.assume({
        region: plan.region,
        roleArn: plan.roleArn,
        roleSessionName: name,
        sourceIdentity,
        durationSeconds: seconds,
        policy: plan.policyFor?.(name),
        externalId: plan.externalId,
      });
      return {
        region: plan.region,
        roleArn: plan.roleArn,
        roleId,
        roleSessionName: name,
        sourceIdentity,
        assumedRoleArn,
        durationSeconds: seconds,
        ...(clamped ? { clamped } : {}),
        ...(plan.assumeRole ? { assumeRole: plan.assumeRole } : {}),
      };
    } catch (err) {
      throw asGrantError(err);
    }
  }

  /** Fresh credentials under the grant's session, lasting until `until` (at least 15 minutes, at most the role's maximum). */
  async reissue(session: StsSession, until: Date, access: SessionAccess): Promise<IssuedCredentials> {
    try {
      const roleMax = await this.roleMaxSeconds(session.roleArn, session.assumeRole);
      const { seconds } = clampDuration(until.getTime() - this.clock.now().getTime(), roleMax);
      const { credentials } = await this.assume({
        region: session.region,
        roleArn: session.roleArn,
        roleSessionName: session.roleSessionName,
        sourceIdentity: session.sourceIdentity,
        durationSeconds: seconds,
        ...access,
      });
      return credentials;
    } catch (err) {
      throw asGrantError(err);
    }
  }

  /**
   * Denies the grant's session for as long as any credential issued for it can live: the role's
   * maximum from now (STS's 12 hours when the maximum cannot be read, which covers any role).
   */
  async deny(requestId: string, session: StsSession): Promise<RevokeResult> {
    const roleMax = await this.roleMaxSeconds(session.roleArn, session.assumeRole).catch(() => STS_MAX_SECONDS);
    const lifetimeMs = Math.max(roleMax, session.durationSeconds) * 1000;
    const until = new Date(this.clock.now().getTime() + lifetimeMs);
    return this.denySession(session.roleArn, requestId, until, session.assumeRole);
  }

  /**
   * cleanupDenies for each role; a line per policy removed. Every role is tried; failures are
   * reported together afterwards, with what was removed before them.
   */
  async cleanupRoles(roles: Iterable<RoleRef>, now: Date): Promise<string[]> {
    const lines: string[] = [];
    const failures: string[] = [];
    const seen = new Set<string>();
    for (const { roleArn, assumeRole: via } of roles) {
      if (seen.has(roleArn)) continue;
      seen.add(roleArn);
      try {
        const names = await this.inlinePolicyNames(roleArn, via);
        lines.push(...(await this.foreignPolicies(roleArn, names, via)));
        lines.push(...(await this.cleanupDenies(roleArn, now, names, via)).map((name) => `deleted expired deny ${name} from ${roleArn}`));
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (failures.length > 0) {
      const done = lines.length > 0 ? ` (done: ${lines.join('; ')})` : '';
      throw new GrantError(`Cleaning up expired deny policies: ${failures.join('; ')}${done}`, true);
    }
    return lines;
  }

  // ---------------------------------------------------------------- internals

  /**
   * Alert lines for the role's inline policies that are not one of this bot's own deny policies
   * (a `jit-deny-*` name AND a Deny-only document with our Sid): whatever else is there could grant
   * more than the role should, and iam:PutRolePolicy is the one write the bot has on the role. Each
   * policy (name and content) is reported once per process, like untagged rules; nothing is deleted.
   */
  private async foreignPolicies(roleArn: string, names: string[], via?: AssumeRole): Promise<string[]> {
    const lines: string[] = [];
    for (const name of names) {
      const document = await this.rolePolicy(roleArn, name, via);
      if (document === undefined || isOwnDeny(name, document)) continue;
      const key = `${roleArn}#${name}#${createHash('sha256').update(document).digest('hex')}`;
      if (this.reportedForeign.has(key)) continue;
      this.reportedForeign.add(key);
      lines.push(`Inline policy ${name} on ${roleArn} is not one of this bot's deny policies: review it (left alone).`);
    }
    return lines;
  }

  private async inlinePolicyNames(roleArn: string, via?: AssumeRole): Promise<string[]> {
    const names: string[] = [];
    let Marker: string | undefined;
    try {
      do {
        const page = await this.iamOf(via).send(new ListRolePoliciesCommand({ RoleName: roleName(roleArn), Marker }));
        names.push(...(page.PolicyNames ?? []));
        Marker = page.IsTruncated ? page.Marker : undefined;
      } while (Marker);
    } catch (err) {
      if (errorCode(err) === 'NoSuchEntity') return [];
      throw awsFailure(err, `Listing the inline policies of ${roleArn}`, IAM_HINTS[errorCode(err)]);
    }
    return names;
  }

  /** The decoded policy document, or undefined when the policy is gone. */
  private async rolePolicy(roleArn: string, PolicyName: string, via?: AssumeRole): Promise<string | undefined> {
    try {
      const out = await this.iamOf(via).send(new GetRolePolicyCommand({ RoleName: roleName(roleArn), PolicyName }));
      return decodeURIComponent(out.PolicyDocument ?? '');
    } catch (err) {
      if (errorCode(err) === 'NoSuchEntity') return undefined;
      throw awsFailure(err, `Reading ${PolicyName} of ${roleArn}`, IAM_HINTS[errorCode(err)]);
    }
  }
}

/** What the per-grant deny policies need on each target role (the doctor simulates exactly these). */
export const DENY_POLICY_ACTIONS = ['iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:DeleteRolePolicy'] as const;

const IAM_HINTS: Readonly<Record<string, string>> = {
  AccessDenied: `the bot needs ${DENY_POLICY_ACTIONS.join(', ')} on the role`,
  LimitExceeded: "the role's inline policies would exceed IAM's 10,240-character total (its jit-deny policy holds about 500 grants ended within the role's maximum session); older entries lapse and the drift sweep drops them",
};

/** The role name: the last path segment of the ARN (arn:aws:iam::123456789012:role/path/Name → Name). */
export function roleName(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

function stsChars(value: string): string {
  return value.replace(STS_NAME_INVALID, '_');
}

/** yyyymmddThhmmssZ, rounded up to the second (a deny never ends early). */
function compactTime(t: Date): string {
  const ceiled = new Date(Math.ceil(t.getTime() / 1000) * 1000);
  return ceiled.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

interface PolicyStatement {
  Sid?: unknown;
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
  Condition?: { StringLike?: Record<string, unknown> };
}

/** The statements of a policy document; none when it is not valid JSON. */
function statements(document: string): PolicyStatement[] {
  try {
    const statement = (JSON.parse(document) as { Statement?: unknown }).Statement;
    const list = Array.isArray(statement) ? statement : [statement];
    return list.filter((s): s is PolicyStatement => typeof s === 'object' && s !== null);
  } catch {
    return [];
  }
}

/** The minified session policy, or a permanent GrantError saying why STS would refuse it. */
function sessionPolicy(input: AssumeInput): string | undefined {
  if (input.policy === undefined) return undefined;
  try {
    return normaliseSessionPolicy(input.policy);
  } catch (err) {
    throw new GrantError(`Not assuming ${input.roleArn}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function assumeFailure(err: unknown, input: AssumeInput): GrantError {
  const doing = `Assuming ${input.roleArn} as ${input.roleSessionName}`;
  const message = err instanceof Error ? err.message : String(err);
  if (isRetryableAwsError(err)) return awsFailure(err, doing);
  switch (errorCode(err)) {
    case 'AccessDenied':
      return new GrantError(
        `${doing} was refused (AccessDenied: ${message}); the role's trust policy must allow the bot's principal ` +
          `to sts:AssumeRole and sts:SetSourceIdentity${input.externalId ? ' (with the target\'s sts:ExternalId)' : ''}`,
        false,
        'aws-denied',
      );
    case 'ValidationError':
      if (/role chaining/i.test(message)) {
        return new GrantError(`${doing} failed (${message}); the bot runs on role credentials, so STS caps every session at 1 hour: set the target's maxDuration to 1h`);
      }
      if (/DurationSeconds/.test(message)) {
        return new GrantError(`${doing} for ${input.durationSeconds} s failed: that exceeds the role's MaxSessionDuration (${message}); raise it on the role or lower the target's maxDuration`);
      }
      return awsFailure(err, doing);
    case 'PackedPolicyTooLarge':
      return new GrantError(`${doing} failed: STS finds the session policy too large once packed (${message}); shorten it`);
    case 'RegionDisabled':
      return new GrantError(`${doing} failed: STS is not activated in ${input.region} for this account (${message})`);
    default:
      return awsFailure(err, doing);
  }
}
