/**
 * A simulated EC2 endpoint for tests and `npm run demo`: security-group ingress rules only.
 *
 * It speaks the EC2 Query protocol as @aws-sdk/client-ec2 sends it (POST, form-urlencoded,
 * Action=…&Version=2016-11-15, 1-based list members such as IpPermissions.1.IpRanges.1.CidrIp,
 * TagSpecification.1.Tag.1.Key, SecurityGroupRuleId.1, Filter.1.Value.1) and answers with EC2 XML.
 * Point a real client at it:
 *
 *   new EC2Client({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })
 *
 * Supported: AuthorizeSecurityGroupIngress (CIDR ranges, rule tags), RevokeSecurityGroupIngress by
 * SecurityGroupRuleId, DescribeSecurityGroupRules (SecurityGroupRuleIds, which fail with
 * InvalidSecurityGroupRuleId.NotFound for a missing id; filters group-id, security-group-rule-id,
 * tag:KEY, tag-key; MaxResults/NextToken paging), DescribeSecurityGroups by GroupId, and DryRun on
 * Authorize/Revoke (DryRunOperation when allowed, UnauthorizedOperation for the actions `deny`
 * names), CreateTags on security-group-rule ids (adds or overwrites tags; an unknown rule id:
 * InvalidSecurityGroupRuleId.NotFound) and UpdateSecurityGroupRuleDescriptionsIngress by
 * SecurityGroupRuleId (the rule must be in GroupId). Every group id starting with "sg-" exists
 * unless `removeGroup` took it away.
 * Signatures are not checked. AWS quirks on demand: throttleNext, ignoreNextRevoke, seedRule.
 *
 * EC2's request throttling, off by default: `rateLimits: true` applies EC2's documented token
 * bucket per action (EC2_DOCUMENTED_BUCKETS, src/domain/revocation-limits.ts, which cites AWS's
 * "Request throttling for the Amazon EC2 API"), or pass your own shapes per action. A call that
 * finds its action's bucket empty is answered as EC2 does: HTTP 503, RequestLimitExceeded.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLocalServer } from './local-server';
import { EC2_DOCUMENTED_BUCKETS, type TokenBucketShape } from '../src/domain/revocation-limits';
import { TokenBucket } from '../src/domain/token-bucket';

export interface FakeRule {
  securityGroupRuleId: string;
  groupId: string;
  ipProtocol: string;
  fromPort: number;
  toPort: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  description?: string;
  tags: Record<string, string>;
}

export type SeedRule = Omit<FakeRule, 'securityGroupRuleId' | 'tags'> & Partial<Pick<FakeRule, 'securityGroupRuleId' | 'tags'>>;

export interface FakeEc2Call {
  action: string;
  /** The form fields of the call, without Action and Version. */
  params: Record<string, string>;
}

export interface FakeEc2 {
  url: string;
  /** A snapshot of the current ingress rules. */
  rules(): FakeRule[];
  /** Every call received, including throttled and failed ones, in order. */
  calls: FakeEc2Call[];
  /** When each rule was removed by a RevokeSecurityGroupIngress (epoch ms, sub-millisecond), by rule id. */
  removedAt: Map<string, number>;
  /** How many calls the token buckets (rateLimits) answered with RequestLimitExceeded, per action. */
  throttledByBucket(): Record<string, number>;
  /** Answers the next n calls with 503 RequestLimitExceeded. */
  throttleNext(n: number): void;
  /** Answers the next RevokeSecurityGroupIngress with Return=true but leaves the rules in place. */
  ignoreNextRevoke(): void;
  /** Adds a rule directly (untagged unless `tags` says otherwise), as a human or another tool would. */
  seedRule(rule: SeedRule): FakeRule;
  /** From now on the group does not exist (InvalidGroup.NotFound). */
  removeGroup(groupId: string): void;
  /** From now on the caller may not call `action` on the group: UnauthorizedOperation (DryRun or not). */
  deny(groupId: string, action: 'AuthorizeSecurityGroupIngress' | 'RevokeSecurityGroupIngress'): void;
  close(): Promise<void>;
}

const API_VERSION = '2016-11-15';
const XMLNS = `http://ec2.amazonaws.com/doc/${API_VERSION}/`;
const OWNER_ID = '123456789012';

type Params = Record<string, string>;

class Ec2Fault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** port: where to listen (0: any). pageSize: Describe page size when the call sends no MaxResults. */
export interface FakeEc2Options {
  port?: number;
  pageSize?: number;
  /**
   * EC2's token buckets, off by default. true: EC2's documented buckets for the actions the bot
   * makes (others unlimited); an object: these shapes per action (unnamed actions unlimited).
   */
  rateLimits?: boolean | Partial<Record<string, TokenBucketShape>>;
  /** The bucket clock in ms (default performance.now): tests pass a fake one. */
  now?: () => number;
}

export async function startFakeEc2(opts: FakeEc2Options = {}): Promise<FakeEc2> {
  const now = opts.now ?? (() => performance.now());
  const shapes: Partial<Record<string, TokenBucketShape>> = opts.rateLimits === true ? EC2_DOCUMENTED_BUCKETS : opts.rateLimits || {};
  // Full from the start, as EC2's are for an account that has been quiet.
  const buckets = new Map<string, TokenBucket>(Object.entries(shapes).flatMap(([action, shape]) => (shape ? [[action, new TokenBucket(shape, now())] as const] : [])));
  const throttledBy: Record<string, number> = {};
  /** False when the action's bucket is empty (the call is throttled); true when unlimited or a token was taken. */
  const takeToken = (action: string): boolean => {
    const shape = shapes[action];
    if (!shape) return true;
    let bucket = buckets.get(action);
    if (!bucket) buckets.set(action, (bucket = new TokenBucket(shape, now())));
    if (bucket.tryTake(now())) return true;
    throttledBy[action] = (throttledBy[action] ?? 0) + 1;
    return false;
  };
  const rules = new Map<string, FakeRule>();
  const calls: FakeEc2Call[] = [];
  const removedAt = new Map<string, number>();
  let throttled = 0;
  let ignoreRevoke = false;
  const removedGroups = new Set<string>();
  const denied = new Set<string>();

  /** The group of the call, after the existence and permission checks; throws DryRunOperation for a permitted dry run. */
  const permitted = (action: string, params: Params): string => {
    const groupId = existingGroup(params, removedGroups);
    if (denied.has(`${groupId} ${action}`)) {
      throw new Ec2Fault('UnauthorizedOperation', 'You are not authorized to perform this operation. Encoded authorization failure message: AbCdEf', 403);
    }
    if (params.DryRun === 'true') throw new Ec2Fault('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
    return groupId;
  };

  const actions: Record<string, (params: Params) => string> = {
    AuthorizeSecurityGroupIngress(params) {
      const groupId = permitted('AuthorizeSecurityGroupIngress', params);
      const tags = Object.fromEntries(
        members(params, 'TagSpecification')
          .filter((spec) => spec.ResourceType === 'security-group-rule')
          .flatMap((spec) => members(spec, 'Tag'))
          .map((tag) => [tag.Key ?? '', tag.Value ?? '']),
      );
      const added = members(params, 'IpPermissions').flatMap((perm) => newRules(groupId, perm, tags));
      if (added.length === 0) throw new Ec2Fault('MissingParameter', 'The request must contain at least one CIDR range.');
      for (const rule of added) {
        const twin = [...rules.values()].find((r) => sameRule(r, rule));
        if (twin) {
          const peer = rule.cidrIpv4 ?? rule.cidrIpv6;
          throw new Ec2Fault(
            'InvalidPermission.Duplicate',
            `the specified rule "peer: ${peer}, ${rule.ipProtocol.toUpperCase()}, from port: ${rule.fromPort}, to port: ${rule.toPort}, ALLOW" already exists`,
          );
        }
      }
      for (const rule of added) rules.set(rule.securityGroupRuleId, rule);
      return `<return>true</return><securityGroupRuleSet>${added.map(ruleXml).join('')}</securityGroupRuleSet>`;
    },

    RevokeSecurityGroupIngress(params) {
      const groupId = permitted('RevokeSecurityGroupIngress', params);
      const ids = values(params, 'SecurityGroupRuleId');
      if (ids.length === 0) {
        throw new Ec2Fault('InvalidParameterValue', 'This fake EC2 revokes by SecurityGroupRuleId only.');
      }
      const gone = ids.filter((id) => rules.get(id)?.groupId !== groupId);
      if (gone.length > 0) {
        throw new Ec2Fault('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${gone[0]}' does not exist`);
      }
      if (ignoreRevoke) {
        ignoreRevoke = false;
        return '<return>true</return>';
      }
      const revoked = ids.map((id) => rules.get(id)!);
      const at = performance.timeOrigin + performance.now();
      for (const id of ids) {
        rules.delete(id);
        removedAt.set(id, at);
      }
      return `<return>true</return><revokedSecurityGroupRuleSet>${revoked.map(revokedXml).join('')}</revokedSecurityGroupRuleSet>`;
    },

    CreateTags(params) {
      const ids = values(params, 'ResourceId');
      const tags = members(params, 'Tag');
      if (ids.length === 0 || tags.length === 0) throw new Ec2Fault('MissingParameter', 'The request must contain the parameters ResourceId and Tag.');
      const missing = ids.find((id) => !rules.has(id));
      if (missing) throw new Ec2Fault(missing.startsWith('sgr-') ? 'InvalidSecurityGroupRuleId.NotFound' : 'InvalidID', `The ID '${missing}' does not exist`);
      for (const id of ids) for (const tag of tags) rules.get(id)!.tags[tag.Key ?? ''] = tag.Value ?? '';
      return '<return>true</return>';
    },

    UpdateSecurityGroupRuleDescriptionsIngress(params) {
      const groupId = permitted('UpdateSecurityGroupRuleDescriptionsIngress', params);
      const updates = members(params, 'SecurityGroupRuleDescription');
      if (updates.length === 0) throw new Ec2Fault('InvalidParameterValue', 'This fake EC2 updates descriptions by SecurityGroupRuleId only.');
      const gone = updates.find((u) => rules.get(u.SecurityGroupRuleId ?? '')?.groupId !== groupId);
      if (gone) throw new Ec2Fault('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${gone.SecurityGroupRuleId ?? ''}' does not exist`);
      for (const u of updates) rules.get(u.SecurityGroupRuleId!)!.description = u.Description ?? '';
      return '<return>true</return>';
    },

    DescribeSecurityGroups(params) {
      const ids = values(params, 'GroupId');
      const missing = ids.find((id) => !id.startsWith('sg-') || removedGroups.has(id));
      if (missing) throw new Ec2Fault('InvalidGroup.NotFound', `The security group '${missing}' does not exist`);
      const groups = ids.map((id) => `<item>${el('ownerId', OWNER_ID)}${el('groupId', id)}${el('groupName', `group-${id}`)}${el('groupDescription', 'fake')}${el('vpcId', 'vpc-0fake')}<ipPermissions/><ipPermissionsEgress/></item>`);
      return `<securityGroupInfo>${groups.join('')}</securityGroupInfo>`;
    },

    DescribeSecurityGroupRules(params) {
      const ids = values(params, 'SecurityGroupRuleId');
      const missing = ids.find((id) => !rules.has(id));
      if (missing) throw new Ec2Fault('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${missing}' does not exist`);
      const filters = members(params, 'Filter').map((f) => filterFor(f.Name ?? '', values(f, 'Value')));
      const idSet = new Set(ids);
      const found = [...rules.values()].filter((rule) => (idSet.size === 0 || idSet.has(rule.securityGroupRuleId)) && filters.every((match) => match(rule)));
      const start = Number(params.NextToken ?? 0);
      const end = start + (Number(params.MaxResults) || opts.pageSize || found.length);
      const next = end < found.length ? el('nextToken', String(end)) : '';
      return `<securityGroupRuleSet>${found.slice(start, end).map(ruleXml).join('')}</securityGroupRuleSet>${next}`;
    },
  };

  function handle(params: Params, requestId: string): { status: number; xml: string } {
    const action = params.Action ?? '';
    const { Action: _action, Version: _version, ...rest } = params;
    calls.push({ action, params: rest });
    try {
      if (throttled > 0) {
        throttled -= 1;
        throw new Ec2Fault('RequestLimitExceeded', 'Request limit exceeded.', 503);
      }
      if (!takeToken(action)) throw new Ec2Fault('RequestLimitExceeded', 'Request limit exceeded.', 503);
      if (params.Version !== API_VERSION) {
        throw new Ec2Fault('NoSuchVersion', `An invalid or unsupported API version ${params.Version ?? ''} was specified.`);
      }
      const run = actions[action];
      if (!run) throw new Ec2Fault('InvalidAction', `The action ${action} is not valid for this web service.`);
      const body = run(params);
      return {
        status: 200,
        xml: `<${action}Response xmlns="${XMLNS}"><requestId>${requestId}</requestId>${body}</${action}Response>`,
      };
    } catch (err) {
      const fault = err instanceof Ec2Fault ? err : new Ec2Fault('InternalError', String(err), 500);
      return { status: fault.status, xml: errorXml(fault, requestId) };
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const requestId = randomUUID();
    const { status, xml } =
      req.method === 'POST'
        ? handle(Object.fromEntries(new URLSearchParams(body)), requestId)
        : { status: 405, xml: errorXml(new Ec2Fault('InvalidAction', 'This fake EC2 accepts POST only.'), requestId) };
    res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  }

  const server = await startLocalServer(serve, opts.port);

  return {
    url: server.url,
    rules: () => structuredClone([...rules.values()]),
    calls,
    removedAt,
    throttledByBucket: () => ({ ...throttledBy }),
    throttleNext(n: number) {
      throttled = n;
    },
    ignoreNextRevoke() {
      ignoreRevoke = true;
    },
    seedRule(seed: SeedRule) {
      const rule: FakeRule = { securityGroupRuleId: `sgr-${randomBytes(8).toString('hex')}`, tags: {}, ...seed };
      rules.set(rule.securityGroupRuleId, rule);
      return structuredClone(rule);
    },
    removeGroup(groupId: string) {
      removedGroups.add(groupId);
    },
    deny(groupId, action) {
      denied.add(`${groupId} ${action}`);
    },
    close: () => server.close(),
  };
}

/** The GroupId of the call; every id starting with "sg-" exists unless removed. */
function existingGroup(params: Params, removed: ReadonlySet<string>): string {
  const groupId = params.GroupId;
  if (!groupId) throw new Ec2Fault('MissingParameter', 'The request must contain the parameter GroupId.');
  if (!groupId.startsWith('sg-') || removed.has(groupId)) throw new Ec2Fault('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
  return groupId;
}

/** One rule per CIDR range of an IpPermissions member. */
function newRules(groupId: string, perm: Params, tags: Record<string, string>): FakeRule[] {
  const base = {
    groupId,
    ipProtocol: (perm.IpProtocol ?? '').toLowerCase(),
    fromPort: Number(perm.FromPort),
    toPort: Number(perm.ToPort),
  };
  const ranges = [
    ...members(perm, 'IpRanges').map((r) => ({ cidrIpv4: r.CidrIp, description: r.Description })),
    ...members(perm, 'Ipv6Ranges').map((r) => ({ cidrIpv6: r.CidrIpv6, description: r.Description })),
  ];
  return ranges.map((range) => ({
    securityGroupRuleId: `sgr-${randomBytes(8).toString('hex')}`,
    ...base,
    ...range,
    tags: { ...tags },
  }));
}

function sameRule(a: FakeRule, b: FakeRule): boolean {
  return (
    a.groupId === b.groupId &&
    a.ipProtocol === b.ipProtocol &&
    a.fromPort === b.fromPort &&
    a.toPort === b.toPort &&
    a.cidrIpv4 === b.cidrIpv4 &&
    a.cidrIpv6 === b.cidrIpv6
  );
}

/**
 * A filter as a predicate. Values are looked up in a Set: a verification read names up to 100 rule
 * ids and is matched against every rule of the group (10,000 in the benches), and this stand-in
 * runs in the same process as the bot there, so its CPU is the bot's.
 */
function filterFor(name: string, values: string[]): (rule: FakeRule) => boolean {
  const wanted = new Set(values);
  if (name === 'group-id') return (rule) => wanted.has(rule.groupId);
  if (name === 'security-group-rule-id') return (rule) => wanted.has(rule.securityGroupRuleId);
  if (name === 'tag-key') return (rule) => values.some((key) => key in rule.tags);
  if (name.startsWith('tag:')) {
    const key = name.slice('tag:'.length);
    return (rule) => key in rule.tags && wanted.has(rule.tags[key]!);
  }
  throw new Ec2Fault('InvalidParameterValue', `The filter '${name}' is invalid`);
}

/** The members of a 1-based Query list ("Prefix.1.Field", "Prefix.2.Field", …) with the prefix cut off. */
function members(params: Params, prefix: string): Params[] {
  const found: Params[] = [];
  const pattern = new RegExp(`^${prefix}\\.(\\d+)\\.(.+)$`);
  for (const [key, value] of Object.entries(params)) {
    const match = pattern.exec(key);
    if (!match) continue;
    const index = Number(match[1]) - 1;
    (found[index] ??= {})[match[2]!] = value;
  }
  return found.filter(Boolean);
}

/** The values of a 1-based scalar Query list ("Prefix.1", "Prefix.2", …). */
function values(params: Params, prefix: string): string[] {
  const found: string[] = [];
  for (let i = 1; params[`${prefix}.${i}`] !== undefined; i++) found.push(params[`${prefix}.${i}`]!);
  return found;
}

/** The fields RevokedSecurityGroupRule and SecurityGroupRule share. */
function commonXml(rule: FakeRule): string {
  return (
    el('securityGroupRuleId', rule.securityGroupRuleId) +
    el('groupId', rule.groupId) +
    el('isEgress', 'false') +
    el('ipProtocol', rule.ipProtocol) +
    el('fromPort', String(rule.fromPort)) +
    el('toPort', String(rule.toPort)) +
    el('cidrIpv4', rule.cidrIpv4) +
    el('cidrIpv6', rule.cidrIpv6) +
    el('description', rule.description)
  );
}

function revokedXml(rule: FakeRule): string {
  return `<item>${commonXml(rule)}</item>`;
}

function ruleXml(rule: FakeRule): string {
  const tags = Object.entries(rule.tags)
    .map(([key, value]) => `<item>${el('key', key)}${el('value', value)}</item>`)
    .join('');
  return `<item>${commonXml(rule)}${el('groupOwnerId', OWNER_ID)}<tagSet>${tags}</tagSet></item>`;
}

function el(name: string, value: string | undefined): string {
  return value === undefined ? '' : `<${name}>${esc(value)}</${name}>`;
}

function errorXml(fault: Ec2Fault, requestId: string): string {
  return (
    `<Response><Errors><Error>${el('Code', fault.code)}${el('Message', fault.message)}</Error></Errors>` +
    `<RequestID>${requestId}</RequestID></Response>`
  );
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
