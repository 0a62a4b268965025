/**
 * AccessProvider for "ec2-ssh" targets: one tagged security-group ingress rule per request,
 * opening a single TCP port to a single host, removed again by its rule id.
 *
 * Grants are idempotent: the rule carries the request id as a tag, and a grant first looks for a
 * rule with that tag and adopts it, but only when its group, protocol, port and address are exactly
 * the request's. A tagged rule of another shape fails the grant (non-retryable) and is left as it is:
 * the tag is someone's claim, not proof, and opening a second rule beside it would hide the anomaly. When EC2 refuses a duplicate because this bot already created
 * the same rule (group, port, address) for another request, the grant shares that rule
 * (`shared: true`). Every grant joins the rule's holders in the RuleRegistry; a revoke leaves
 * them, and only the last holder removes the rule from AWS (a rule being revoked takes no
 * newcomer: that grant is retried and creates a fresh rule). A
 * matching rule without this bot's managed-by tag is never adopted (revoking it later would remove
 * access someone else relies on).
 *
 * An extension keeps what the rule says true (recordExpiry): its expires-at tag and its
 * description are moved to the new end (the later of theirs and the extension's: a shared rule
 * lives until its last holder ends), then read back.
 *
 * Revocation is verified: after the revoke, the rule is looked up again by id, and only its absence
 * counts as `verified`. The drift sweep (sweepDrift) lists the rules of the managed groups and
 * removes tagged ones no live grant holds, on the same path.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DescribeSecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
  UpdateSecurityGroupRuleDescriptionsIngressCommand,
  type EC2Client,
  type Filter,
  type IpPermission,
  type RevokeSecurityGroupIngressCommandOutput,
  type SecurityGroupRule,
  type Tag,
} from '@aws-sdk/client-ec2';
import { parseHostAddress } from '../domain/address';
import { ConflictError, GrantError } from '../domain/errors';
import type { AccessRequest, AssumeRole, Ec2Grant, Ec2SshTarget, Grant, HostCidr, ObservedRule, Target } from '../domain/types';
import type { Ec2Action } from '../domain/revocation-limits';
import type { AccessProvider, DriftContext, DriftFindings, RevokeResult, RuleRegistry } from '../ports';
import { awsErrorCode, awsFailure, isRetryableAwsError } from './retry';
import { arnParts } from './sts-session';
import { MicroBatcher } from './micro-batch';
import { type CallPriority, type Ec2Pacer } from './pacing';

export const MANAGED_BY = 'jit-access-bot';
/** Rule tag keys are "<prefix>:request-id", "<prefix>:managed-by", … */
export const DEFAULT_TAG_PREFIX = 'jit';

/** The tag keys of a rule ("<prefix>:request-id", …). The task role's IAM conditions require exactly these (infra/lib/bot-names.ts). */
export function ruleTagKeys(prefix: string = DEFAULT_TAG_PREFIX): { requestId: string; requester: string; expiresAt: string; managedBy: string } {
  return { requestId: `${prefix}:request-id`, requester: `${prefix}:requester`, expiresAt: `${prefix}:expires-at`, managedBy: `${prefix}:managed-by` };
}

/** The tags a grant puts on its rule at creation (TagSpecifications): all four, every time. */
export function ruleTags(keys: ReturnType<typeof ruleTagKeys>, requestId: string, requesterId: string, expiresAt: Date): Tag[] {
  return [
    { Key: keys.requestId, Value: requestId },
    { Key: keys.requester, Value: requesterId },
    { Key: keys.expiresAt, Value: expiresAt.toISOString() },
    { Key: keys.managedBy, Value: MANAGED_BY },
  ];
}

export interface Ec2SshProviderOptions {
  /** Region of targets that do not name one. */
  defaultRegion: string;
  /** Holders of each rule this bot created (overlapping grants share one). */
  registry: RuleRegistry;
  /** Prefix of the rule tag keys ("jit" gives jit:request-id, jit:requester, …). */
  tagPrefix?: string;
  /** Client-side token buckets (src/aws/pacing.ts): every EC2 call waits for its token, revocations first. Absent: no pacing. */
  pacer?: Ec2Pacer;
  /** The account the clients act in, for the pacer's buckets (one per account and Region); default "self". */
  account?: string;
}

const PROTOCOL = 'tcp';
const DUPLICATE = 'InvalidPermission.Duplicate';
/** Group ids per DescribeSecurityGroupRules call of listRules. */
const GROUPS_PER_CALL = 200;
/** Rule ids per batched RevokeSecurityGroupIngress / DescribeSecurityGroupRules of concurrent revokes (a filter takes up to 200 values). */
const RULES_PER_BATCH = 100;
/** Batched calls per group (revokes) or Region (verification reads) at once; more revokes wait for the next batch. */
const BATCHES_IN_FLIGHT = 4;
/** Rules the drift sweep checks per batched read (BatchGetItem's 100 keys), yielding between pages. */
const DRIFT_PAGE = 100;
/** Revoke errors that mean the rule is already gone (the group may have gone with it). */
const ALREADY_GONE: ReadonlySet<string> = new Set([
  'InvalidSecurityGroupRuleId.NotFound',
  'InvalidPermission.NotFound',
  'InvalidGroup.NotFound',
]);
const HINTS: Readonly<Record<string, string>> = {
  UnauthorizedOperation:
    "the bot's IAM role lacks the EC2 permission for this call (tagging the rule also needs ec2:CreateTags)",
  'InvalidGroup.NotFound': 'check securityGroupId and region of the target',
  'InvalidGroupId.Malformed': 'check securityGroupId of the target',
};
const DESCRIPTION_MAX = 255;
/** Everything EC2 refuses in a rule description: a-zA-Z0-9. _-:/()#,@[]+=&;{}!$* are allowed. */
const DESCRIPTION_FORBIDDEN = /[^a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]/g;

/** What a (batched) revoke did for one rule: removed, already gone, or failed (throws at its caller). */
type RevokeOutcome = 'removed' | 'gone' | { error: unknown; returnedFalse?: undefined } | { returnedFalse: true; error?: undefined };

/** One rule, by id: what revoke and removeRule need. */
type RuleRef = Pick<ObservedRule, 'region' | 'assumeRole' | 'securityGroupId' | 'securityGroupRuleId'>;

/** Where calls go: a Region of the bot's own account, or of the account a role is assumed in. */
interface Where {
  region: string;
  assumeRole?: AssumeRole;
}

/** One key per account and Region ("eu-west-1", or "<role ARN>|eu-west-1"). */
const whereKey = (w: Where): string => (w.assumeRole ? `${w.assumeRole.roleArn}|${w.region}` : w.region);
/** " in account 123456789012", for messages about another account. */
const inAccount = (w: Where): string => (w.assumeRole ? ` in account ${arnParts(w.assumeRole.roleArn).account}` : '');

/** Everything one grant needs to find, create or adopt its rule, and to describe it in errors. */
interface RulePlan extends Where {
  client: EC2Client;
  groupId: string;
  port: number;
  host: HostCidr;
  requestId: string;
  /** "tcp/22 on sg-… (eu-west-1) for 203.0.113.7/32", for messages. */
  label: string;
}

export class Ec2SshProvider implements AccessProvider {
  readonly kind = 'ec2-ssh' as const;
  private readonly defaultRegion: string;
  private readonly registry: RuleRegistry;
  private readonly tagKeys: ReturnType<typeof ruleTagKeys>;
  private readonly pacer?: Ec2Pacer;
  private readonly account: string;

  constructor(
    /** The EC2 client of a Region, in the bot's account or (with `assumeRole`) in another. */
    private readonly clientFor: (region: string, assumeRole?: AssumeRole) => EC2Client,
    opts: Ec2SshProviderOptions,
  ) {
    this.defaultRegion = opts.defaultRegion;
    this.registry = opts.registry;
    this.tagKeys = ruleTagKeys(opts.tagPrefix);
    this.pacer = opts.pacer;
    this.account = opts.account ?? 'self';
  }

  /** Waits for the call's token in its account and Region (no-op without a pacer): each account has its own buckets. */
  private async paced(w: Where, action: Ec2Action, priority: CallPriority): Promise<void> {
    if (this.pacer) await this.pacer.acquire(`${w.assumeRole ? arnParts(w.assumeRole.roleArn).account : this.account}/${w.region}`, action, priority);
  }

  private client(w: Where): EC2Client {
    return this.clientFor(w.region, w.assumeRole);
  }

  /** Creates (or adopts, or shares) the rule, then joins its holders. */
  async grant(request: AccessRequest, target: Ec2SshTarget, expiresAt: Date): Promise<Ec2Grant> {
    const grant = await this.openRule(request, target, expiresAt);
    await this.holdRule(grant, request.id);
    return grant;
  }

  /**
   * Registers the request as a holder of its rule (shared when another live grant created it). A
   * rule that is being revoked takes no newcomer: retry, and the next attempt creates a fresh rule.
   */
  private async holdRule(grant: Ec2Grant, requestId: string): Promise<void> {
    try {
      await this.registry.join(ruleKey(grant), requestId);
    } catch (err) {
      throw err instanceof ConflictError ? new GrantError(`rule ${grant.securityGroupRuleId} is being revoked for another request; retrying`, true) : err;
    }
  }

  private async openRule(request: AccessRequest, target: Ec2SshTarget, expiresAt: Date): Promise<Ec2Grant> {
    const plan = this.plan(request, target);
    const tagged = (await this.groupRules(plan, [{ Name: `tag:${this.tagKeys.requestId}`, Values: [request.id] }])).filter((rule) => !rule.IsEgress && rule.SecurityGroupRuleId);
    // A tag is only a claim: adopt only the rule this request would have created (same group,
    // protocol, port and address). Anything else carrying this request's id is refused and left
    // alone: never adopted (its revoke would be ours), never revoked (it is not what we opened).
    const strange = tagged.filter((rule) => !sameRule(rule, plan));
    if (strange.length > 0) {
      throw new GrantError(
        `${plan.groupId} already has a rule tagged ${this.tagKeys.requestId}=${request.id} that does not match ${plan.label}: ` +
          `${strange.map(describeRule).join('; ')}; nothing was changed (inspect that rule before trying again)`,
      );
    }
    const mine = tagged[0]?.SecurityGroupRuleId;
    if (mine) return toGrant(plan, mine);

    let ruleId: string | undefined;
    try {
      await this.paced(plan, 'AuthorizeSecurityGroupIngress', 'grant');
      const out = await plan.client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: plan.groupId,
          IpPermissions: [permission(plan, ruleDescription(request, expiresAt))],
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: ruleTags(this.tagKeys, request.id, request.requesterId, expiresAt) }],
        }),
      );
      ruleId = out.SecurityGroupRules?.[0]?.SecurityGroupRuleId;
    } catch (err) {
      if (awsErrorCode(err) === DUPLICATE) return this.adoptDuplicate(plan);
      throw failure(err, `Opening ${plan.label}`);
    }
    if (!ruleId) {
      throw new GrantError(
        `EC2 accepted ${plan.label} but returned no rule id; look in ${plan.groupId} for a rule tagged ` +
          `${this.tagKeys.requestId}=${request.id}`,
      );
    }
    return toGrant(plan, ruleId);
  }

  /**
   * Leaves the rule's holders; the last holder revokes it in AWS, and forgets it only once a
   * re-read confirms it is gone. Other holders left (or someone joined between leave and revoke):
   * nothing is revoked, and they are returned as `holders`.
   */
  /**
   * After an extension: the rule's expires-at tag and description name the grant's new end (or a
   * later one already there), read back. A rule that is gone has nothing to correct (revocation
   * and the drift sweep work from the store). Throws (retryable) when EC2 does not show it yet.
   */
  async recordExpiry(_request: AccessRequest, grant: Ec2Grant, expiresAt: Date): Promise<void> {
    const where: Where = { region: grant.region, ...(grant.assumeRole ? { assumeRole: grant.assumeRole } : {}) };
    const client = this.client(where);
    const ruleId = grant.securityGroupRuleId;
    const read = async (): Promise<SecurityGroupRule | undefined> => {
      try {
        await this.paced(where, 'DescribeSecurityGroupRules', 'grant');
        return (await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [ruleId] }))).SecurityGroupRules?.[0];
      } catch (err) {
        if (awsErrorCode(err) === 'InvalidSecurityGroupRuleId.NotFound') return undefined;
        throw failure(err, `Reading rule ${ruleId}`);
      }
    };
    const rule = await read();
    if (!rule) return;
    const tags = Object.fromEntries((rule.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    const tagged = Date.parse(tags[this.tagKeys.expiresAt] ?? '');
    const end = new Date(Number.isNaN(tagged) ? expiresAt.getTime() : Math.max(tagged, expiresAt.getTime()));
    // The description names the request that opened the rule (its tags), as at creation.
    const description = ruleDescription({ id: tags[this.tagKeys.requestId] ?? grant.securityGroupRuleId, requesterId: tags[this.tagKeys.requester] ?? '' }, end);
    const says = (r: SecurityGroupRule | undefined) => r !== undefined && r.Tags?.find((t) => t.Key === this.tagKeys.expiresAt)?.Value === end.toISOString() && r.Description === description;
    if (says(rule)) return;
    try {
      await client.send(new CreateTagsCommand({ Resources: [ruleId], Tags: [{ Key: this.tagKeys.expiresAt, Value: end.toISOString() }] }));
      await client.send(new UpdateSecurityGroupRuleDescriptionsIngressCommand({ GroupId: grant.securityGroupId, SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: ruleId, Description: description }] }));
    } catch (err) {
      if (awsErrorCode(err) === 'InvalidSecurityGroupRuleId.NotFound') return;
      throw failure(err, `Recording the new end ${end.toISOString()} on rule ${ruleId}`);
    }
    const after = await read();
    if (after && !says(after)) throw new GrantError(`rule ${ruleId} does not show its new end ${end.toISOString()} yet; retrying`, true);
  }

  async revoke(request: AccessRequest, _target: Target | undefined, grant: Ec2Grant): Promise<RevokeResult> {
    const key = ruleKey(grant);
    // The usual case, the only holder: leave and mark the rule as being revoked in one write.
    if (this.registry.leaveLast && (await this.registry.leaveLast(key, request.id))) return this.removeAndForget(key, grant);
    const holders = await this.registry.leave(key, request.id);
    if (holders.length > 0) return { removed: false, verified: true, holders };
    if (!(await this.registry.beginRevoke(key))) {
      return { removed: false, verified: true, holders: await this.registry.holders(key) }; // someone joined between leave and revoke
    }
    return this.removeAndForget(key, grant);
  }

  /** The last holder's part: removes the rule, and forgets it once a re-read confirms it is gone. */
  private async removeAndForget(key: string, grant: Ec2Grant): Promise<RevokeResult> {
    const result = await this.removeAndVerify(grant, ` (${PROTOCOL}/${grant.port} for ${grant.cidr})`);
    if (result.verified) await this.registry.forget(key);
    return result;
  }

  unverifiedRevoke(grant: Grant): string {
    const rule = grant as Ec2Grant;
    return `AWS still lists rule ${rule.securityGroupRuleId} on ${rule.securityGroupId} after revoking it (or could not be asked)`;
  }

  /**
   * Drift sweep of the managed groups (those of the configured targets): removes rules carrying
   * our tag that no live grant holds (left by a crash, a manual restore, a bug); reports rules
   * without our tag and never touches them.
   */
  async sweepDrift(targets: Target[], ctx: DriftContext): Promise<DriftFindings> {
    const findings: DriftFindings = { removed: [], untagged: [], failed: [] };
    const groups = new Map<string, Where & { securityGroupId: string }>();
    for (const t of targets) {
      if (t.kind !== this.kind) continue;
      const where: Where = { region: t.region ?? this.defaultRegion, ...(t.assumeRole ? { assumeRole: t.assumeRole } : {}) };
      groups.set(`${whereKey(where)}#${t.securityGroupId}`, { ...where, securityGroupId: t.securityGroupId });
    }
    if (groups.size === 0) return findings;
    const rules = await this.listRules([...groups.values()]);
    // The registry's list of held rules (a few reads, not one per 100 rules), when there is a
    // rule of ours to look up: an idle sweep reads nothing.
    const listed = this.registry.heldRules && rules.some((rule) => rule.managed) ? await this.registry.heldRules() : undefined;
    // A page at a time: one batched read of the holders of the rules the list does not show as
    // held, one of the requests their tags name, then a turn of the event loop so that requests and
    // revocations are not held up behind the sweep.
    for (let i = 0; i < rules.length; i += DRIFT_PAGE) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const page = rules.slice(i, i + DRIFT_PAGE);
      const managed: ObservedRule[] = [];
      for (const rule of page) {
        if (!rule.managed) findings.untagged.push(rule);
        else if (!listed?.has(ruleKey(rule))) managed.push(rule);
      }
      if (managed.length === 0) continue;
      const held = await this.heldOf(managed, ctx);
      for (const rule of managed) {
        if (held.has(rule)) continue;
        const result = await this.removeRule(rule).catch(() => ({ removed: false, verified: false }));
        (result.verified ? findings.removed : findings.failed).push(rule);
      }
    }
    return findings;
  }

  /**
   * The tagged rules of a page that are live: a grant holds them, or their request is still being
   * granted or revoked. The holders first (one batched read); the tag is read from AWS, not
   * trusted: the core answers false for a value that is not a request id, without a read.
   */
  private async heldOf(rules: readonly ObservedRule[], ctx: DriftContext): Promise<Set<ObservedRule>> {
    const held = new Set<ObservedRule>();
    const holders = this.registry.holdersOf ? await this.registry.holdersOf(rules.map(ruleKey)) : undefined;
    const unheld: ObservedRule[] = [];
    for (const rule of rules) {
      const of = holders ? (holders.get(ruleKey(rule)) ?? []) : await this.registry.holders(ruleKey(rule));
      if (of.length > 0) held.add(rule);
      else unheld.push(rule);
    }
    const tagged = unheld.filter((rule) => rule.requestId !== undefined);
    if (ctx.liveOf) {
      const live = await ctx.liveOf(tagged.map((rule) => rule.requestId!));
      for (const rule of tagged) if (live.has(rule.requestId!)) held.add(rule);
    } else {
      for (const rule of tagged) if (await ctx.isLive(rule.requestId!)) held.add(rule);
    }
    return held;
  }

  async removeRule(rule: RuleRef): Promise<RevokeResult> {
    return this.removeAndVerify(rule);
  }

  /** The rules of the groups, per account and Region (one listing per 200 groups of each). */
  async listRules(groups: ReadonlyArray<Where & { securityGroupId: string }>): Promise<ObservedRule[]> {
    const byWhere = new Map<string, { where: Where; ids: Set<string> }>();
    for (const { securityGroupId, ...where } of groups) {
      const key = whereKey(where);
      const entry = byWhere.get(key) ?? { where: { region: where.region, ...(where.assumeRole ? { assumeRole: where.assumeRole } : {}) }, ids: new Set<string>() };
      entry.ids.add(securityGroupId);
      byWhere.set(key, entry);
    }
    const observed: ObservedRule[] = [];
    for (const { where, ids } of byWhere.values()) {
      const { region } = where;
      const client = this.client(where);
      const all = [...ids];
      for (let i = 0; i < all.length; i += GROUPS_PER_CALL) {
        const chunk = all.slice(i, i + GROUPS_PER_CALL);
        const groupsLabel = `${chunk.length === 1 ? chunk[0] : `${chunk.length} security groups`} (${region}${inAccount(where)})`;
        const rules = await this.describeRules(client, [{ Name: 'group-id', Values: chunk }], groupsLabel, where, 'background');
        for (const rule of rules) {
          if (rule.IsEgress || !rule.SecurityGroupRuleId || !rule.GroupId) continue;
          observed.push({
            region,
            ...(where.assumeRole ? { assumeRole: where.assumeRole } : {}),
            securityGroupId: rule.GroupId,
            securityGroupRuleId: rule.SecurityGroupRuleId,
            managed: this.isManaged(rule),
            requestId: tagValue(rule.Tags, this.tagKeys.requestId),
            cidr: rule.CidrIpv4 ?? rule.CidrIpv6,
            fromPort: rule.FromPort,
            toPort: rule.ToPort,
            protocol: rule.IpProtocol,
            description: rule.Description,
          });
        }
      }
    }
    return observed;
  }

  /**
   * Revokes one rule by id, then looks it up again. A revoke that matches nothing can "succeed"
   * silently (EC2 answers Return=true, e.g. for a mismatched rule in a default VPC), so success is
   * only what the re-read shows. Already gone counts as success. Revoke failures throw GrantError;
   * a failing re-read does not: it is reported as `verified: false`, and the core alerts.
   *
   * Concurrent revokes of one group share their calls (see revokeBatch and goneBatch): a burst of
   * expiries costs a RevokeSecurityGroupIngress and a DescribeSecurityGroupRules per batch, not per rule.
   */
  private async removeAndVerify(rule: RuleRef, detail = ''): Promise<RevokeResult> {
    const { securityGroupId: groupId, securityGroupRuleId: ruleId } = rule;
    const where: Where = { region: rule.region, ...(rule.assumeRole ? { assumeRole: rule.assumeRole } : {}) };
    const key = whereKey(where);
    const outcome = await this.revokes.submit(`${key}#${groupId}`, { where, groupId, ruleId });
    if (outcome !== 'removed' && outcome !== 'gone') {
      const label = `rule ${ruleId}${detail} of ${groupId} (${where.region}${inAccount(where)})`;
      if (outcome.returnedFalse) throw new GrantError(`Removing ${label}: EC2 answered Return=false without an error`, true);
      throw failure(outcome.error, `Removing ${label}`);
    }
    this.wheres.set(key, where);
    return { removed: outcome === 'removed', verified: await this.verifies.submit(key, ruleId) };
  }

  /** Revokes of one group (key "<where>#group") submitted together: one call for all of them. */
  private readonly revokes = new MicroBatcher<{ where: Where; groupId: string; ruleId: string }, RevokeOutcome>(
    (_key, items) => this.revokeBatch(items),
    RULES_PER_BATCH,
    BATCHES_IN_FLIGHT,
  );

  /** Where each verification key points (whereKey → Where). */
  private readonly wheres = new Map<string, Where>();

  /** Verification reads of one account and Region submitted together: one lookup of all their rule ids. */
  private readonly verifies = new MicroBatcher<string, boolean>((key, ruleIds) => this.goneBatch(this.wheres.get(key)!, ruleIds), RULES_PER_BATCH, BATCHES_IN_FLIGHT);

  /**
   * One RevokeSecurityGroupIngress for rules of one group. EC2 revokes all of them or none: when a
   * batch of several fails (one rule already gone, say), each rule is revoked on its own, so one
   * bad rule never holds up the others and each caller gets its own answer.
   */
  private async revokeBatch(items: ReadonlyArray<{ where: Where; groupId: string; ruleId: string }>): Promise<RevokeOutcome[]> {
    const { where, groupId } = items[0]!;
    const client = this.client(where);
    let out: RevokeSecurityGroupIngressCommandOutput;
    try {
      await this.paced(where, 'RevokeSecurityGroupIngress', 'revocation');
      out = await client.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: items.map((i) => i.ruleId) }));
    } catch (err) {
      if (items.length > 1) return Promise.all(items.map((i) => this.revokeBatch([i]).then((o) => o[0]!)));
      return [ALREADY_GONE.has(awsErrorCode(err)) ? 'gone' : { error: err }];
    }
    if (out.Return === false) {
      if (items.length > 1) return Promise.all(items.map((i) => this.revokeBatch([i]).then((o) => o[0]!)));
      return [{ returnedFalse: true }];
    }
    const removed: RevokeOutcome = out.UnknownIpPermissions?.length ? 'gone' : 'removed';
    return items.map(() => removed);
  }

  /** For each rule id: true when EC2 no longer lists it; false when it does or the lookup failed. */
  private async goneBatch(where: Where, ruleIds: readonly string[]): Promise<boolean[]> {
    const client = this.client(where);
    const listed = new Set<string>();
    try {
      let nextToken: string | undefined;
      do {
        await this.paced(where, 'DescribeSecurityGroupRules', 'revocation');
        const page = await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'security-group-rule-id', Values: [...ruleIds] }], NextToken: nextToken }));
        for (const r of page.SecurityGroupRules ?? []) if (r.SecurityGroupRuleId) listed.add(r.SecurityGroupRuleId);
        nextToken = page.NextToken;
      } while (nextToken);
    } catch (err) {
      if (ruleIds.length > 1) return Promise.all(ruleIds.map((id) => this.goneBatch(where, [id]).then((g) => g[0]!)));
      return [awsErrorCode(err) === 'InvalidSecurityGroupRuleId.NotFound'];
    }
    return ruleIds.map((id) => !listed.has(id));
  }

  private isManaged(rule: SecurityGroupRule): boolean {
    return tagValue(rule.Tags, this.tagKeys.managedBy) === MANAGED_BY;
  }

  /** Resolves region and client, and refuses anything but a single host before any AWS call. */
  private plan(request: AccessRequest, target: Ec2SshTarget): RulePlan {
    const region = target.region ?? this.defaultRegion;
    const at: Where = { region, ...(target.assumeRole ? { assumeRole: target.assumeRole } : {}) };
    const where = `${PROTOCOL}/${target.port} on ${target.securityGroupId} (${region}${inAccount(at)})`;
    let host: HostCidr;
    try {
      host = parseHostAddress(request.cidr);
    } catch (err) {
      // Defence in depth: AWS silently widens e.g. 1.2.3.4/0 to 0.0.0.0/0.
      throw new GrantError(`Refusing to open ${where} for request ${request.id}: ${(err as Error).message}`);
    }
    return {
      ...at,
      client: this.client(at),
      groupId: target.securityGroupId,
      port: target.port,
      host,
      requestId: request.id,
      label: `${where} for ${host.cidr}`,
    };
  }

  /**
   * EC2 says the rule exists already: adopt it if it is ours for this very request, share it if
   * this bot created it for another request, refuse otherwise.
   */
  private async adoptDuplicate(plan: RulePlan): Promise<Ec2Grant> {
    const rules = await this.groupRules(plan, []);
    const existing = rules.find((rule) => sameRule(rule, plan));
    const what = `${plan.groupId} already has a rule for ${plan.host.cidr} on port ${plan.port}`;
    if (!existing?.SecurityGroupRuleId) {
      throw new GrantError(`EC2 says ${what}, but it is not in the rule list yet; nothing was changed`, true);
    }
    if (tagValue(existing.Tags, this.tagKeys.requestId) === plan.requestId) return toGrant(plan, existing.SecurityGroupRuleId);
    if (this.isManaged(existing)) return { ...toGrant(plan, existing.SecurityGroupRuleId), shared: true };
    throw new GrantError(
      `${what} (rule ${existing.SecurityGroupRuleId}), not created by this request; nothing was changed`,
    );
  }

  /** All rules of the plan's group matching the extra filters. */
  private groupRules(plan: RulePlan, filters: Filter[]): Promise<SecurityGroupRule[]> {
    return this.describeRules(plan.client, [{ Name: 'group-id', Values: [plan.groupId] }, ...filters], `${plan.groupId} (${plan.region}${inAccount(plan)})`, plan, 'grant');
  }

  /** All rules matching the filters, across pages; failures become a GrantError naming `groups`. */
  private async describeRules(client: EC2Client, filters: Filter[], groups: string, where: Where, priority: CallPriority): Promise<SecurityGroupRule[]> {
    const rules: SecurityGroupRule[] = [];
    let nextToken: string | undefined;
    try {
      do {
        await this.paced(where, 'DescribeSecurityGroupRules', priority);
        const page = await client.send(new DescribeSecurityGroupRulesCommand({ Filters: filters, NextToken: nextToken }));
        rules.push(...(page.SecurityGroupRules ?? []));
        nextToken = page.NextToken;
      } while (nextToken);
    } catch (err) {
      throw failure(err, `Listing the rules of ${groups}`);
    }
    return rules;
  }
}

function permission(plan: RulePlan, description: string): IpPermission {
  const base = { IpProtocol: PROTOCOL, FromPort: plan.port, ToPort: plan.port };
  return plan.host.family === 6
    ? { ...base, Ipv6Ranges: [{ CidrIpv6: plan.host.cidr, Description: description }] }
    : { ...base, IpRanges: [{ CidrIp: plan.host.cidr, Description: description }] };
}

/** "jit <request> <requester> until <ISO time>", limited to what EC2 accepts in a description. */
export function ruleDescription(request: Pick<AccessRequest, 'id' | 'requesterId'>, expiresAt: Date): string {
  return `jit ${request.id} ${request.requesterId} until ${expiresAt.toISOString()}`
    .replace(DESCRIPTION_FORBIDDEN, '_')
    .slice(0, DESCRIPTION_MAX);
}

function sameRule(rule: SecurityGroupRule, plan: RulePlan): boolean {
  const cidr = plan.host.family === 6 ? rule.CidrIpv6 : rule.CidrIpv4;
  return (
    !rule.IsEgress &&
    (rule.IpProtocol === PROTOCOL || rule.IpProtocol === '6') &&
    rule.FromPort === plan.port &&
    rule.ToPort === plan.port &&
    cidr !== undefined &&
    cidr.toLowerCase() === plan.host.cidr
  );
}

/** "sgr-… tcp/22 from 0.0.0.0/0", for messages about a rule that is not what we expected. */
function describeRule(rule: SecurityGroupRule): string {
  const ports = rule.FromPort === rule.ToPort ? `${rule.FromPort}` : `${rule.FromPort}-${rule.ToPort}`;
  return `${rule.SecurityGroupRuleId} ${rule.IpProtocol}/${ports} from ${rule.CidrIpv4 ?? rule.CidrIpv6 ?? rule.ReferencedGroupInfo?.GroupId ?? rule.PrefixListId ?? '?'}`;
}

/** The registry key of a rule ("<region>#<rule id>"). */
export function ruleKey(rule: Pick<Ec2Grant, 'region' | 'securityGroupRuleId'>): string {
  return `${rule.region}#${rule.securityGroupRuleId}`;
}

function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((tag) => tag.Key === key)?.Value;
}

function toGrant(plan: RulePlan, securityGroupRuleId: string): Ec2Grant {
  return {
    kind: 'ec2-ssh',
    region: plan.region,
    securityGroupId: plan.groupId,
    securityGroupRuleId,
    cidr: plan.host.cidr,
    port: plan.port,
    ...(plan.assumeRole ? { assumeRole: plan.assumeRole } : {}),
  };
}

/** Maps an SDK error to a GrantError that names what we were doing and the AWS error code. */

function failure(err: unknown, doing: string): GrantError {
  return awsFailure(err, doing, HINTS[awsErrorCode(err)]);
}
