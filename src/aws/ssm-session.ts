/**
 * AccessProvider for "ssm-session" targets: Session Manager access to managed nodes, through
 * credentials for the target's access role narrowed by a session policy to exactly the nodes (and
 * the session document) resolved at grant time.
 *
 * Nodes are the target's instanceIds plus the nodes whose tags all match, as Systems Manager
 * sees them (DescribeInstanceInformation): listed ids must be managed and online, tags must match
 * at least one online node. The session policy names the listed nodes one by one, and reaches
 * tag-selected nodes by a tag condition (`ssm:resourceTag/<key>`, as AWS's Session Manager
 * examples do), so it stays the same size however many nodes carry the tags: a node tagged later
 * is reachable, a node untagged meanwhile is not (whoever may tag nodes decides what such a target
 * reaches). A Session Manager session outlives the credentials that opened it, so
 * ending a grant first terminates its sessions (endSessions), then denies the session name on the
 * role and checks that no session of it is still active (revoke).
 */
import {
  DescribeInstanceInformationCommand,
  DescribeSessionsCommand,
  TerminateSessionCommand,
  type InstanceInformation,
  type InstanceInformationStringFilter,
  type Session,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { ValidationError } from '../domain/errors';
import { SESSION_POLICY_MAX_CHARS } from '../domain/session-policy';
import type { AccessRequest, AssumeRole, Grant, IssuedCredentials, SsmGrant, SsmSessionTarget, Target } from '../domain/types';
import type { AccessProvider, GrantContext, RevokeResult } from '../ports';
import { awsFailure } from './retry';
import { arnParts, asGrantError, configuredTarget, errorCode, expectKind, rolesOf, type StsSessions, unverifiedDeny } from './sts-session';

export interface SsmSessionProviderOptions {
  /** Region of targets that do not name one. */
  defaultRegion: string;
}

/** What the session policy of a grant is built from. */
export interface SsmPolicyScope {
  region: string;
  /** The access role: its partition and account are those of the nodes and the session document. */
  roleArn: string;
  /** The nodes named one by one (the target's listed instanceIds). */
  instanceIds: string[];
  /** Nodes reached by their tags (all must match). */
  nodeTags?: Readonly<Record<string, string>>;
  documentName: string;
  roleSessionName: string;
}

/** Tag-matched nodes a grant records for the DM (which node to name in the connect command). */
const SAMPLE_NODES = 10;

const PAGE_SIZE = 50;
/** The longest session name STS issues: what checkRequest sizes the policy with. */
const LONGEST_SESSION_NAME = 'x'.repeat(64);
/** What Session Manager runs when start-session names no document. */
const DEFAULT_DOCUMENT = 'SSM-SessionManagerRunShell';
/** Session documents owned by AWS have no account in their ARN (their names are reserved to AWS). */
const AWS_OWNED_DOCUMENT = /^(aws|amazon|amzn)/i;

/**
 * The session policy of a grant: StartSession on exactly these nodes with exactly this document;
 * terminate, resume and the data channel on this session name's own sessions (Session Manager
 * names an assumed role's sessions "<role session name>-<random>", so AWS's `${aws:userid}-*`
 * example never matches them); the read-only calls the CLI and console make, which take no
 * resource. ValidationError when too many nodes to fit.
 *
 * A start-session without --document-name gets the default shell whatever the policy lists,
 * unless the ssm:SessionDocumentAccessCheck condition is set, which in turn makes
 * --document-name mandatory. So the condition is set only for other documents (a
 * port-forwarding target must not yield a shell); for the default shell there is nothing to
 * escalate to, and the plain `aws ssm start-session --target …` of the grant DM keeps working.
 */
export function ssmSessionPolicy(scope: SsmPolicyScope): string {
  const { partition, account } = arnParts(scope.roleArn);
  const documentCheck = scope.documentName === DEFAULT_DOCUMENT ? undefined : { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } };
  const tags = Object.entries(scope.nodeTags ?? {});
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: [...scope.instanceIds.map((id) => nodeArn(partition, scope.region, account, id)), documentArn(partition, scope.region, account, scope.documentName)],
        ...(documentCheck ? { Condition: documentCheck } : {}),
      },
      ...(tags.length > 0
        ? [
            {
              Effect: 'Allow',
              Action: 'ssm:StartSession',
              Resource: [`arn:${partition}:ec2:${scope.region}:${account}:instance/*`, `arn:${partition}:ssm:${scope.region}:${account}:managed-instance/*`],
              Condition: { StringEquals: Object.fromEntries(tags.map(([key, value]) => [`ssm:resourceTag/${key}`, value])), ...(documentCheck ?? {}) },
            },
          ]
        : []),
      {
        Effect: 'Allow',
        Action: ['ssm:TerminateSession', 'ssm:ResumeSession', 'ssmmessages:OpenDataChannel'],
        Resource: `arn:${partition}:ssm:${scope.region}:${account}:session/${scope.roleSessionName}-*`,
      },
      {
        Effect: 'Allow',
        Action: ['ssm:DescribeSessions', 'ssm:GetConnectionStatus', 'ssm:DescribeInstanceInformation'],
        Resource: '*',
      },
    ],
  });
  if (policy.length > SESSION_POLICY_MAX_CHARS) {
    throw new ValidationError(
      'plain', { text: `${scope.instanceIds.length} nodes do not fit in one session policy (${policy.length} characters; STS accepts at most ${SESSION_POLICY_MAX_CHARS}): list fewer instanceIds or narrow the tags` },
      'target',
    );
  }
  return policy;
}

export class SsmSessionProvider implements AccessProvider {
  readonly kind = 'ssm-session' as const;
  readonly usesSourceIdentity = true;

  constructor(
    private readonly sessions: StsSessions,
    /** SSM of a Region, in the bot's account or (with `assumeRole`) the account a target reaches. */
    private readonly ssmFor: (region: string, assumeRole?: AssumeRole) => SSMClient,
    private readonly opts: SsmSessionProviderOptions,
  ) {}

  /** The nodes are managed and online, their session policy fits, and the access role exists. */
  async checkRequest(target: Target): Promise<void> {
    const ssm = expectKind(target, this.kind);
    const { listed } = await this.nodesOf(ssm);
    ssmSessionPolicy({ ...this.scopeBase(ssm), instanceIds: listed, roleSessionName: LONGEST_SESSION_NAME });
    await this.sessions.roleMaxSeconds(ssm.roleArn, ssm.assumeRole);
  }

  /**
   * The target's nodes as Systems Manager sees them now: every listed id, managed and online, plus
   * the online nodes whose tags all match. ValidationError naming each node that is not usable.
   */
  async resolveNodes(target: SsmSessionTarget): Promise<string[]> {
    const { listed, tagged } = await this.nodesOf(target);
    return [...new Set([...listed, ...tagged])];
  }

  /** The listed nodes and the tag-matched ones, apart (see resolveNodes). */
  private async nodesOf(target: SsmSessionTarget): Promise<{ listed: string[]; tagged: string[] }> {
    const region = this.region(target);
    const client = this.ssmFor(region, target.assumeRole);
    const listed = await this.listedNodes(client, target, region);
    const tagged = await this.taggedNodes(client, target, region);
    const problems = [...listed.problems, ...tagged.problems];
    if (problems.length > 0) throw new ValidationError('plain', { text: `Target ${target.name} (${region}): ${problems.join('; ')}` }, 'target');
    return { listed: listed.nodes, tagged: tagged.nodes.filter((id) => !listed.nodes.includes(id)) };
  }

  async grant(request: AccessRequest, target: Target, _expiresAt: Date, ctx: GrantContext): Promise<SsmGrant> {
    const ssm = expectKind(target, this.kind);
    const base = this.scopeBase(ssm);
    const { listed: instanceIds, tagged } = await this.nodesOf(ssm).catch((err: unknown) => {
      throw asGrantError(err);
    });
    const nodeTags = Object.keys(ssm.nodeTags).length > 0 ? { ...ssm.nodeTags } : undefined;
    const session = await this.sessions.open({
      requestId: request.id,
      requesterId: request.requesterId,
      sourceIdentity: ctx.sourceIdentity,
      durationMs: request.durationMs,
      region: base.region,
      roleArn: ssm.roleArn,
      externalId: ssm.externalId,
      ...(ssm.assumeRole ? { assumeRole: ssm.assumeRole } : {}),
      policyFor: (roleSessionName) => ssmSessionPolicy({ ...base, instanceIds, ...(nodeTags ? { nodeTags } : {}), roleSessionName }),
    });
    return { kind: this.kind, ...session, instanceIds, ...(nodeTags ? { nodeTags, sampleNodes: tagged.slice(0, SAMPLE_NODES) } : {}), documentName: ssm.documentName };
  }

  /** Credentials under the grant's session, narrowed to the nodes resolved at grant time. */
  async issueCredentials(request: AccessRequest, target: Target | undefined, grant: SsmGrant, until: Date): Promise<IssuedCredentials> {
    const ssm = configuredTarget(target, request, this.kind);
    const policy = ssmSessionPolicy(grantScope(grant));
    return this.sessions.reissue(grant, until, { policy, externalId: ssm.externalId });
  }

  /** Terminates the grant's active sessions on its nodes; returns their ids. */
  async endSessions(_request: AccessRequest, _target: Target | undefined, grant: SsmGrant): Promise<string[]> {
    const client = this.ssmFor(grant.region, grant.assumeRole);
    // The owner filter already names this grant's session: on a tag-selected grant, every node it
    // reached counts (the tags may have matched more, or other, nodes than at grant time).
    const reached = (node: string) => grant.nodeTags !== undefined || grant.instanceIds.includes(node);
    const ids = (await this.activeSessions(client, grant)).flatMap((s) => (s.SessionId && s.Target && reached(s.Target) ? [s.SessionId] : []));
    for (const SessionId of ids) {
      try {
        await client.send(new TerminateSessionCommand({ SessionId }));
      } catch (err) {
        if (errorCode(err) !== 'DoesNotExist') throw awsFailure(err, `Terminating session ${SessionId} of ${grant.assumedRoleArn}`, 'the bot needs ssm:TerminateSession');
      }
    }
    return ids;
  }

  /** Denies the session name on the access role; verified only when the deny is in place and no session of it is active. */
  async revoke(request: AccessRequest, _target: Target | undefined, grant: SsmGrant): Promise<RevokeResult> {
    const denied = await this.sessions.deny(request.id, grant);
    const idle = await this.activeSessions(this.ssmFor(grant.region, grant.assumeRole), grant).then(
      (sessions) => sessions.length === 0,
      () => false,
    );
    return { removed: denied.removed, verified: denied.verified && idle };
  }

  unverifiedRevoke(grant: Grant): string {
    return unverifiedDeny(grant as SsmGrant);
  }

  async cleanup(targets: Target[], now: Date): Promise<string[]> {
    return this.sessions.cleanupRoles(rolesOf(targets, this.kind), now);
  }

  private region(target: SsmSessionTarget): string {
    return target.region ?? this.opts.defaultRegion;
  }

  private scopeBase(target: SsmSessionTarget): Omit<SsmPolicyScope, 'instanceIds' | 'roleSessionName'> {
    return { region: this.region(target), roleArn: target.roleArn, documentName: target.documentName };
  }

  /** The listed ids that are managed and online; a problem for each that is not. */
  private async listedNodes(client: SSMClient, target: SsmSessionTarget, region: string): Promise<NodeLookup> {
    if (target.instanceIds.length === 0) return { nodes: [], problems: [] };
    const infos = await this.describeNodes(client, [{ Key: 'InstanceIds', Values: target.instanceIds }], target, region);
    const found = new Map(infos.map((n) => [n.InstanceId, n]));
    const problems = target.instanceIds.flatMap((id) => nodeProblem(id, found.get(id)) ?? []);
    return { nodes: target.instanceIds.filter((id) => !nodeProblem(id, found.get(id))), problems };
  }

  /** The online nodes carrying every tag; a problem when there is none. */
  private async taggedNodes(client: SSMClient, target: SsmSessionTarget, region: string): Promise<NodeLookup> {
    const tags = Object.entries(target.nodeTags);
    if (tags.length === 0) return { nodes: [], problems: [] };
    const matched = await this.describeNodes(client, tags.map(([key, value]) => ({ Key: `tag:${key}`, Values: [value] })), target, region);
    const nodes = matched.flatMap((n) => (n.InstanceId && n.PingStatus === 'Online' ? [n.InstanceId] : []));
    if (nodes.length > 0) return { nodes, problems: [] };
    const label = tags.map(([key, value]) => `${key}=${value}`).join(', ');
    return { nodes, problems: [matched.length === 0 ? `no managed node is tagged ${label}` : `none of the ${matched.length} nodes tagged ${label} is online`] };
  }

  /** Every managed node matching all filters, across pages. */
  private async describeNodes(client: SSMClient, Filters: InstanceInformationStringFilter[], target: SsmSessionTarget, region: string): Promise<InstanceInformation[]> {
    const nodes: InstanceInformation[] = [];
    let NextToken: string | undefined;
    try {
      do {
        const page = await client.send(new DescribeInstanceInformationCommand({ Filters, MaxResults: PAGE_SIZE, NextToken }));
        nodes.push(...(page.InstanceInformationList ?? []));
        NextToken = page.NextToken || undefined;
      } while (NextToken);
    } catch (err) {
      throw awsFailure(err, `Listing the managed nodes of ${target.name} (${region})`, 'the bot needs ssm:DescribeInstanceInformation');
    }
    return nodes;
  }

  /** The active sessions started by the grant's assumed role, on any node, across pages. */
  private async activeSessions(client: SSMClient, grant: SsmGrant): Promise<Session[]> {
    const sessions: Session[] = [];
    let NextToken: string | undefined;
    try {
      do {
        const page = await client.send(
          new DescribeSessionsCommand({ State: 'Active', Filters: [{ key: 'Owner', value: grant.assumedRoleArn }], NextToken }),
        );
        sessions.push(...(page.Sessions ?? []));
        NextToken = page.NextToken || undefined;
      } while (NextToken);
    } catch (err) {
      throw awsFailure(err, `Listing the sessions of ${grant.assumedRoleArn} (${grant.region})`, 'the bot needs ssm:DescribeSessions');
    }
    return sessions;
  }
}

interface NodeLookup {
  nodes: string[];
  problems: string[];
}

function nodeProblem(id: string, node: InstanceInformation | undefined): string | undefined {
  if (!node) return `${id} is not managed by Systems Manager`;
  if (node.PingStatus !== 'Online') return `${id} is ${node.PingStatus ?? 'not online'}`;
  return undefined;
}

/** EC2 instances (i-…) and hybrid managed nodes (mi-…) have different ARNs. */
function nodeArn(partition: string, region: string, account: string, id: string): string {
  return id.startsWith('mi-') ? `arn:${partition}:ssm:${region}:${account}:managed-instance/${id}` : `arn:${partition}:ec2:${region}:${account}:instance/${id}`;
}

function documentArn(partition: string, region: string, account: string, name: string): string {
  if (name.startsWith('arn:')) return name;
  return `arn:${partition}:ssm:${region}:${AWS_OWNED_DOCUMENT.test(name) ? '' : account}:document/${name}`;
}

function grantScope(grant: SsmGrant): SsmPolicyScope {
  return { region: grant.region, roleArn: grant.roleArn, instanceIds: grant.instanceIds, ...(grant.nodeTags ? { nodeTags: grant.nodeTags } : {}), documentName: grant.documentName, roleSessionName: grant.roleSessionName };
}
