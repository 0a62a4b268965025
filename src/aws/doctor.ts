/**
 * The doctor's AWS checks: who the bot is (STS GetCallerIdentity), whether it may open and close
 * rules on each ec2-ssh target's security group (EC2 DryRun), whether each role-backed target's
 * role exists and trusts the bot the way grants rely on (sts:SetSourceIdentity, a required
 * source identity), whether each ssm-session target's nodes are online, and whether the bot may
 * write its deny policy on each role (iam:SimulatePrincipalPolicy), and whether each such role has a
 * permissions boundary (what caps any inline policy written on it). Nothing here changes anything
 * in AWS: EC2 calls carry DryRun, IAM is only read and simulated.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { GetRoleCommand, type IAMClient, SimulatePrincipalPolicyCommand, type EvaluationResult } from '@aws-sdk/client-iam';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DescribePermissionSetCommand, GetInlinePolicyForPermissionSetCommand, type SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { fail, pass, type CheckOutcome } from '../doctor';
import { formatDuration } from '../domain/duration';
import { ValidationError } from '../domain/errors';
import type { AssumeRole, AwsRoleTarget, Ec2SshTarget, SsmSessionTarget, SsoPermissionSetTarget } from '../domain/types';
import { ruleTagKeys, ruleTags } from './ec2-ssh';
import { inlinePolicySize, ROLE_INLINE_POLICY_LIMIT } from '../domain/session-policy';
import { awsErrorCode } from './retry';
import { SsmSessionProvider } from './ssm-session';
import { arnParts, DENY_POLICY_ACTIONS, roleName, StsSessions } from './sts-session';

/** A documentation address (RFC 5737): what the EC2 dry runs ask to open and close. */
export const PROBE_CIDR = '192.0.2.1/32';
/** The check that the others point to when AWS credentials do not work. */
export const AWS_IDENTITY_CHECK = 'AWS identity';

export interface AwsDoctorClients {
  /** EC2 of a Region, in the bot's account or (with `assumeRole`) the account a target reaches. */
  ec2For: (region: string, assumeRole?: AssumeRole) => EC2Client;
  ssmFor: (region: string, assumeRole?: AssumeRole) => SSMClient;
  /** IAM in the account a target reaches through its assumeRole; without it such targets fail their role check naming the gap. */
  iamVia?: (via: AssumeRole) => IAMClient;
  stsFor: (region: string) => STSClient;
  iam: IAMClient;
  /** Identity Center (sso-permission-set targets); without it their check fails naming the gap. */
  ssoAdminFor?: (region: string) => SSOAdminClient;
  /** Region of targets that do not name one (and of the STS call). */
  defaultRegion: string;
}

/** The caller as GetCallerIdentity names it, and the IAM principal that stands behind it. */
export interface BotIdentity {
  arn: string;
  account: string;
  partition: string;
  /** The role name when the bot runs on role credentials (assumed-role ARN), else undefined. */
  roleName?: string;
  /** The IAM user or role ARN the bot's permissions come from (what the simulation runs for), when there is one. */
  principalArn?: string;
}

type IdentityLookup = { ok: true; identity: BotIdentity } | { ok: false; outcome: CheckOutcome };

export class AwsDoctor {
  private identityLookup?: Promise<IdentityLookup>;
  private principalLookup?: Promise<string | undefined>;
  private readonly nodes: SsmSessionProvider;

  constructor(private readonly clients: AwsDoctorClients) {
    // The node rules are the provider's own (listed ids online, tags matching an online node).
    this.nodes = new SsmSessionProvider(new StsSessions(clients.stsFor, clients.iam, undefined, clients.iamVia), clients.ssmFor, { defaultRegion: clients.defaultRegion });
  }

  /** STS GetCallerIdentity: the credentials work, and whose they are. */
  async identityCheck(): Promise<CheckOutcome> {
    const found = await this.identity();
    if (!found.ok) return found.outcome;
    const { identity } = found;
    return pass(`${identity.arn} (account ${identity.account})`);
  }

  /** The permission set exists in the instance (DescribePermissionSet), with the session duration the DMs state. */
  async permissionSetCheck(target: SsoPermissionSetTarget): Promise<CheckOutcome> {
    const region = target.region ?? this.clients.defaultRegion;
    if (!this.clients.ssoAdminFor) return fail('no Identity Center client', 'this doctor was built without one');
    try {
      const out = await this.clients.ssoAdminFor(region).send(new DescribePermissionSetCommand({ InstanceArn: target.instanceArn, PermissionSetArn: target.permissionSetArn }));
      const ps = out.PermissionSet;
      const found = `permission set ${ps?.Name ?? target.permissionSetArn} (session duration ${ps?.SessionDuration ?? 'PT1H'}) on ${target.accountIds.length === 1 ? `account ${target.accountIds[0]}` : `${target.accountIds.length} accounts`}`;
      return target.endSessions ? await this.inlinePolicyRoom(target, region, found) : pass(found);
    } catch (err) {
      if (awsErrorCode(err) === 'ResourceNotFoundException') return fail(`permission set ${target.permissionSetArn} is not in ${target.instanceArn} (${region})`, `check permissionSetArn, instanceArn and region of target ${target.name}`);
      return awsProblem(err, `reading permission set ${target.permissionSetArn}`, 'sso:DescribePermissionSet');
    }
  }

  /** endSessions: the bot may read the set's inline policy, can rewrite it, and how much room its denies have left. */
  private async inlinePolicyRoom(target: SsoPermissionSetTarget, region: string, found: string): Promise<CheckOutcome> {
    let policy: string | undefined;
    try {
      policy = (await this.clients.ssoAdminFor!(region).send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn: target.instanceArn, PermissionSetArn: target.permissionSetArn }))).InlinePolicy;
    } catch (err) {
      return awsProblem(err, `reading the inline policy of ${target.permissionSetArn} (endSessions)`, 'sso:GetInlinePolicyForPermissionSet');
    }
    if (policy && policy.trim()) {
      try {
        const doc: unknown = JSON.parse(policy);
        if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a document');
      } catch {
        return fail(`${found}; its inline policy is not a JSON policy document, so the bot will not add its session denies to it`, `fix the inline policy of the permission set, or set endSessions: false on target ${target.name}`);
      }
    }
    const used = policy ? inlinePolicySize(policy) : 0;
    return pass(`${found}; endSessions: its inline policy uses ${used.toLocaleString('en')} of IAM's ${ROLE_INLINE_POLICY_LIMIT.toLocaleString('en')} characters for a role`);
  }

  /** The group exists, and the bot may add and remove ingress rules on it (with the rule tags a grant sets). */
  async securityGroupCheck(target: Ec2SshTarget): Promise<CheckOutcome> {
    const blocked = await this.needsIdentity();
    if (blocked) return blocked;
    const region = target.region ?? this.clients.defaultRegion;
    const client = this.clients.ec2For(region, target.assumeRole);
    const GroupId = target.securityGroupId;
    const where = `${GroupId} (${region}${target.assumeRole ? `, account ${arnParts(target.assumeRole.roleArn).account} through ${target.assumeRole.roleArn}` : ''})`;
    try {
      await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId] }));
    } catch (err) {
      const code = awsErrorCode(err);
      if (code === 'InvalidGroup.NotFound') return fail(`security group ${where} does not exist`, `check securityGroupId and region of target ${target.name}`);
      if (code === 'InvalidGroupId.Malformed') return fail(`${GroupId} is not a security group id`, `check securityGroupId of target ${target.name}`);
      return awsProblem(err, `reading ${where}`, 'ec2:DescribeSecurityGroups');
    }
    const IpPermissions: IpPermission[] = [{ IpProtocol: 'tcp', FromPort: target.port, ToPort: target.port, IpRanges: [{ CidrIp: PROBE_CIDR }] }];
    const authorize = await dryRun(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          DryRun: true,
          GroupId,
          IpPermissions,
          // All four tags a grant sets: the task role allows authorize only with them (infra/).
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: ruleTags(ruleTagKeys(), 'jit-doctor', 'doctor', new Date(0)) }],
        }),
      ),
    );
    const revoke = await dryRun(() => client.send(new RevokeSecurityGroupIngressCommand({ DryRun: true, GroupId, IpPermissions })));
    const denied = [
      ...(authorize === 'denied' ? ['ec2:AuthorizeSecurityGroupIngress (with ec2:CreateTags on security-group-rule)'] : []),
      ...(revoke === 'denied' ? ['ec2:RevokeSecurityGroupIngress'] : []),
    ];
    if (denied.length > 0) {
      return fail(
        `the bot may not ${authorize === 'denied' ? (revoke === 'denied' ? 'open or close' : 'open') : 'close'} rules on ${where}`,
        `allow ${denied.join(' and ')} on ${GroupId} to ${await this.principalLabel()} (README → AWS permissions)`,
      );
    }
    for (const [what, outcome] of [['opening', authorize], ['closing', revoke]] as const) {
      if (typeof outcome === 'object') return awsProblem(outcome.err, `trying ${what} tcp/${target.port} on ${where}`, what === 'opening' ? 'ec2:AuthorizeSecurityGroupIngress' : 'ec2:RevokeSecurityGroupIngress');
    }
    return pass(`${where} exists; the bot may open and close tcp/${target.port} on it`);
  }

  /** The role exists, trusts the bot with sts:SetSourceIdentity and requires a source identity; its maximum session. */
  async roleCheck(target: AwsRoleTarget | SsmSessionTarget): Promise<CheckOutcome> {
    const found = await this.identity();
    if (!found.ok) return notChecked();
    let document: string;
    let maxSeconds: number;
    let boundary: string | undefined;
    const iam = target.assumeRole ? this.clients.iamVia?.(target.assumeRole) : this.clients.iam;
    if (!iam) return fail(`no IAM client for ${target.roleArn} through ${target.assumeRole!.roleArn}`, 'this doctor was built without one');
    try {
      const out = await iam.send(new GetRoleCommand({ RoleName: roleName(target.roleArn) }));
      document = decodeURIComponent(out.Role?.AssumeRolePolicyDocument ?? '');
      maxSeconds = out.Role?.MaxSessionDuration ?? 3_600;
      boundary = out.Role?.PermissionsBoundary?.PermissionsBoundaryArn;
    } catch (err) {
      if (errorName(err) === 'NoSuchEntity') return fail(`role ${target.roleArn} does not exist`, `check roleArn of target ${target.name} (and that it is in the bot's account)`);
      return awsProblem(err, `reading role ${target.roleArn}`, 'iam:GetRole');
    }
    const trust = readTrustPolicy(document, found.identity);
    const bot = await this.principalLabel();
    const problems: string[] = [];
    const fixes: string[] = [];
    if (!trust.assume) {
      problems.push(`its trust policy does not let the bot (${bot}) assume it`);
      fixes.push(`trust ${bot} with "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"] and "Condition": {"Null": {"sts:SourceIdentity": "false"}}`);
    } else {
      if (!trust.setSourceIdentity) {
        problems.push('its trust policy does not allow sts:SetSourceIdentity to the bot, so every grant would fail');
        fixes.push('add "sts:SetSourceIdentity" to the Action of the trust statement for the bot');
      }
      if (!trust.requiresSourceIdentity) {
        problems.push('its trust policy does not require a source identity, so a session need not name the human');
        fixes.push('add "Condition": {"Null": {"sts:SourceIdentity": "false"}} to the trust statement for the bot');
      }
    }
    // The bot may write inline policies on the role (its per-grant denies): only a permissions
    // boundary, which the bot may not change, caps what such a policy could ever grant.
    if (!boundary) {
      problems.push('it has no permissions boundary, so an inline policy written with the bot\'s iam:PutRolePolicy could grant anything');
      fixes.push(`attach a permissions boundary that allows only what ${target.name} is for: aws iam put-role-permissions-boundary --role-name ${roleName(target.roleArn)} --permissions-boundary <policy ARN>`);
    }
    if (problems.length > 0) return fail(`role ${target.roleArn}: ${problems.join('; ')}`, `${fixes.join('; ')} (README → AWS permissions)`);
    return pass(`role ${roleName(target.roleArn)} trusts the bot and requires a source identity; permissions boundary ${boundary}; maximum session ${formatDuration(maxSeconds * 1000)}`);
  }

  /** Every listed node is managed and online, and the tags match at least one online node. */
  async nodesCheck(target: SsmSessionTarget): Promise<CheckOutcome> {
    const blocked = await this.needsIdentity();
    if (blocked) return blocked;
    try {
      const ids = await this.nodes.resolveNodes(target);
      return pass(`${ids.length} node${ids.length === 1 ? '' : 's'} online: ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`);
    } catch (err) {
      if (err instanceof ValidationError) {
        return fail(err.message.replace(/^Target \S+ /, 'nodes '), `start the SSM agent on the nodes (or fix instanceIds / nodeTags of target ${target.name}); Fleet Manager shows each node's ping status`);
      }
      const text = message(err);
      return fail(text, /AccessDenied/.test(text) ? "allow ssm:DescribeInstanceInformation (resource *) to the bot's IAM role" : undefined);
    }
  }

  /**
   * The bot may write, read and delete its jit-deny inline policy on every role (IAM policy
   * simulation). Roles of another account are managed through the role the bot assumes there
   * (`via`): that role is simulated, through its own session (it may simulate itself: infra/
   * MemberAccountRoleStack).
   */
  async denyPoliciesCheck(roleArns: readonly string[], via?: AssumeRole): Promise<CheckOutcome> {
    const found = await this.identity();
    if (!found.ok) return notChecked();
    let iam = this.clients.iam;
    let principal: string | undefined;
    if (via) {
      const reached = this.clients.iamVia?.(via);
      if (!reached) return fail(`no IAM client for roles reached through ${via.roleArn}`, 'this doctor was built without one');
      iam = reached;
      principal = via.roleArn;
    } else {
      principal = await this.principal();
      if (!principal) {
        return fail(
          `could not verify: ${found.identity.arn} is not an IAM role or user, so its permissions cannot be simulated`,
          `run the bot on an IAM role; it needs ${DENY_POLICY_ACTIONS.join(', ')} on each target role`,
        );
      }
    }
    const who = via ? via.roleArn : 'the bot';
    const denied: string[] = [];
    for (const roleArn of roleArns) {
      const results: EvaluationResult[] = [];
      let Marker: string | undefined;
      try {
        do {
          const page = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: principal, ActionNames: [...DENY_POLICY_ACTIONS], ResourceArns: [roleArn], Marker }));
          results.push(...(page.EvaluationResults ?? []));
          Marker = page.IsTruncated ? page.Marker : undefined;
        } while (Marker);
      } catch (err) {
        const code = errorName(err);
        if (code === 'AccessDenied') {
          return via
            ? fail(`could not verify: ${via.roleArn} may not call iam:SimulatePrincipalPolicy on itself`, `allow iam:SimulatePrincipalPolicy on ${via.roleArn} to that role (infra/ MemberAccountRoleStack does), or check by hand that it has ${DENY_POLICY_ACTIONS.join(', ')} on each target role of its account`)
            : fail(`could not verify: the bot may not call iam:SimulatePrincipalPolicy`, `allow iam:SimulatePrincipalPolicy on ${principal} to it (the doctor's only use), or check by hand that it has ${DENY_POLICY_ACTIONS.join(', ')} on each target role`);
        }
        return awsProblem(err, `simulating the ${via ? `permissions of ${via.roleArn}` : "bot's IAM permissions"} on ${roleArn}`, 'iam:SimulatePrincipalPolicy');
      }
      for (const action of DENY_POLICY_ACTIONS) {
        const decisions = results.filter((r) => r.EvalActionName?.toLowerCase() === action.toLowerCase()).flatMap((r) => (r.ResourceSpecificResults?.length ? r.ResourceSpecificResults.map((x) => x.EvalResourceDecision) : [r.EvalDecision]));
        const refusal = decisions.length === 0 ? 'not evaluated' : decisions.find((d) => d !== 'allowed');
        if (refusal) denied.push(`${action} on ${roleName(roleArn)} (${refusal})`);
      }
    }
    if (denied.length > 0) {
      return fail(
        `${via ? `${via.roleArn} may not manage the bot's` : 'the bot may not manage its'} deny policies: ${denied.join(', ')}; early revocation of role credentials would fail`,
        via ? `allow ${DENY_POLICY_ACTIONS.join(', ')} on the target roles to ${via.roleArn} (infra/ MemberAccountRoleStack: managedRoleArns)` : `allow ${DENY_POLICY_ACTIONS.join(', ')} on the target roles to ${principal} (README → AWS permissions)`,
      );
    }
    return pass(`${who} may put and delete ${via ? "the bot's" : 'its'} jit-deny policy on ${roleArns.length} role${roleArns.length === 1 ? '' : 's'}`);
  }

  // ---------------------------------------------------------------- internals

  private identity(): Promise<IdentityLookup> {
    this.identityLookup ??= this.clients
      .stsFor(this.clients.defaultRegion)
      .send(new GetCallerIdentityCommand({}))
      .then(
        (out): IdentityLookup => {
          if (!out.Arn || !out.Account) return { ok: false, outcome: fail('STS returned no caller identity', 'check the AWS endpoint settings (AWS_ENDPOINT_URL_STS)') };
          return { ok: true, identity: describeIdentity(out.Arn, out.Account) };
        },
        (err: unknown): IdentityLookup => ({ ok: false, outcome: identityProblem(err) }),
      );
    return this.identityLookup;
  }

  private async needsIdentity(): Promise<CheckOutcome | undefined> {
    return (await this.identity()).ok ? undefined : notChecked();
  }

  /** The IAM ARN behind the caller; for a role, read back with GetRole so a role path is kept (path-less when that is not allowed). */
  private principal(): Promise<string | undefined> {
    this.principalLookup ??= this.identity().then(async (found) => {
      if (!found.ok) return undefined;
      const { identity } = found;
      if (!identity.roleName) return identity.principalArn;
      try {
        const out = await this.clients.iam.send(new GetRoleCommand({ RoleName: identity.roleName }));
        return out.Role?.Arn ?? identity.principalArn;
      } catch {
        return identity.principalArn;
      }
    });
    return this.principalLookup;
  }

  private async principalLabel(): Promise<string> {
    const found = await this.identity();
    return (await this.principal()) ?? (found.ok ? found.identity.arn : "the bot's IAM role");
  }
}

// ------------------------------------------------------------------ pure helpers

/** arn:aws:sts::123:assumed-role/Name/session → the role; arn:aws:iam::123:user/x → the user. */
export function describeIdentity(arn: string, account: string): BotIdentity {
  const { partition } = arnParts(arn);
  const resource = arn.split(':').slice(5).join(':');
  const assumed = /^assumed-role\/([^/]+)\//.exec(resource);
  if (assumed) return { arn, account, partition, roleName: assumed[1], principalArn: `arn:${partition}:iam::${account}:role/${assumed[1]}` };
  if (/^(user|role)\//.test(resource) && arn.split(':')[2] === 'iam') return { arn, account, partition, principalArn: arn };
  return { arn, account, partition };
}

export interface TrustReading {
  /** Some Allow statement for the bot's principal allows sts:AssumeRole. */
  assume: boolean;
  /** Some Allow statement for the bot's principal allows sts:SetSourceIdentity. */
  setSourceIdentity: boolean;
  /** Every statement that lets the bot assume the role carries a condition on sts:SourceIdentity. */
  requiresSourceIdentity: boolean;
}

interface PolicyStatement {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** Reads a role's trust policy (decoded JSON) as it applies to the bot. Malformed JSON trusts nobody. */
export function readTrustPolicy(document: string, bot: BotIdentity): TrustReading {
  let statements: PolicyStatement[] = [];
  try {
    const parsed = JSON.parse(document) as { Statement?: PolicyStatement | PolicyStatement[] };
    statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
  } catch {
    statements = [];
  }
  const forBot = statements.filter((s) => s.Effect === 'Allow' && principalMatches(s.Principal, bot));
  const assuming = forBot.filter((s) => allows(s.Action, 'sts:AssumeRole'));
  return {
    assume: assuming.length > 0,
    setSourceIdentity: forBot.some((s) => allows(s.Action, 'sts:SetSourceIdentity')),
    requiresSourceIdentity: assuming.length > 0 && assuming.every(requiresSourceIdentity),
  };
}

function principalMatches(principal: unknown, bot: BotIdentity): boolean {
  if (principal === '*') return true;
  const aws = (principal as { AWS?: unknown } | undefined)?.AWS;
  const names = (Array.isArray(aws) ? aws : [aws]).filter((p): p is string => typeof p === 'string');
  return names.some((p) => {
    if (p === '*' || p === bot.account || p === `arn:${bot.partition}:iam::${bot.account}:root` || p === bot.arn || p === bot.principalArn) return true;
    // A role principal names the role with its path; the assumed-role ARN keeps only the name.
    return bot.roleName !== undefined && p.startsWith(`arn:${bot.partition}:iam::${bot.account}:role/`) && p.slice(p.lastIndexOf('/') + 1) === bot.roleName;
  });
}

function allows(action: string | string[] | undefined, wanted: string): boolean {
  return (Array.isArray(action) ? action : action ? [action] : []).some((a) => new RegExp(`^${a.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(wanted));
}

function requiresSourceIdentity(statement: PolicyStatement): boolean {
  return Object.entries(statement.Condition ?? {}).some(([operator, keys]) =>
    Object.entries(keys ?? {}).some(([key, value]) => {
      if (key.toLowerCase() !== 'sts:sourceidentity') return false;
      // {"Null": {"sts:SourceIdentity": "true"}} requires its absence.
      if (/^Null$/i.test(operator)) return String(Array.isArray(value) ? value[0] : value).toLowerCase() === 'false';
      return !/IfExists$/i.test(operator);
    }),
  );
}

type DryRunOutcome = 'allowed' | 'denied' | { err: unknown };

/** EC2 answers a DryRun with DryRunOperation when the call would be allowed, UnauthorizedOperation when not. */
async function dryRun(call: () => Promise<unknown>): Promise<DryRunOutcome> {
  try {
    await call();
    return 'allowed';
  } catch (err) {
    const code = awsErrorCode(err);
    if (code === 'DryRunOperation') return 'allowed';
    if (code === 'UnauthorizedOperation') return 'denied';
    return { err };
  }
}

function errorName(err: unknown): string {
  return awsErrorCode(err).replace(/Exception$/, '');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function notChecked(): CheckOutcome {
  return fail(`not checked: the AWS identity check failed (see "${AWS_IDENTITY_CHECK}")`);
}

function isCredentialsError(err: unknown): boolean {
  return errorName(err) === 'CredentialsProviderError' || /could not load credentials/i.test(message(err));
}

function identityProblem(err: unknown): CheckOutcome {
  if (isCredentialsError(err)) {
    return fail(
      'no AWS credentials found',
      'run with credentials for the bot: the ECS task role in production; locally AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    );
  }
  const code = errorName(err);
  if (['InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken', 'UnrecognizedClient'].includes(code)) {
    return fail(`AWS refused the credentials (${code}: ${message(err)})`, 'renew or replace the credentials the bot runs with');
  }
  return awsProblem(err, 'calling sts:GetCallerIdentity', 'sts:GetCallerIdentity');
}

/** A failed AWS call as a check outcome: missing permission, unreachable endpoint, or the error as AWS gave it. */
function awsProblem(err: unknown, doing: string, permission: string): CheckOutcome {
  const code = errorName(err);
  if (isCredentialsError(err)) return notChecked();
  if (code === 'AccessDenied' || code === 'UnauthorizedOperation' || code === 'AccessDeniedException') {
    return fail(`the bot may not ${permission.replace(/^[a-z0-9]+:/, '')} (${doing}: ${code})`, `allow ${permission} to the bot's IAM role (README → AWS permissions)`);
  }
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const network = /^E[A-Z]+$/.test(code) ? code : /\b(E[A-Z]{4,})\b/.exec(message(err))?.[1];
  if (status === undefined && network) return fail(`could not reach AWS ${doing} (${network})`, 'check the network, proxy and AWS_ENDPOINT_URL_* settings');
  return fail(`${doing} failed (${code}: ${message(err)})`);
}
