import type { KnownBlock } from '@slack/types';
import type {
  AccessRequest,
  AwsRoleTarget,
  Ec2Grant,
  Ec2SshTarget,
  IssuedCredentials,
  RequestStatus,
  RoleGrant,
  SsmGrant,
  SsmSessionTarget,
  Target,
  TargetPolicy,
} from '../../src/domain/types';
import type { TargetSummary } from '../../src/policy';
import { LIMITS } from '../../blocks/text';

export const CREATED = '2026-11-22T10:00:00.000Z';
export const REQUESTER = 'U0REQUESTER';
export const APPROVER = 'U0APPROVER';
export const REVOKER = 'U0REVOKER';
export const CHANNEL = 'C0APPROVERS';
export const SECOND_APPROVER = 'U0SECOND';
export const APPROVER_GROUP = 'S0ONCALL';
/** The grant an extension request extends. */
export const PARENT = 'jit-parent1';

/** What a user might type to ping everyone: it must never reach Slack unescaped. */
export const NASTY = '<!channel> hi <@U123> & co';
export const NASTY_ESCAPED = '&lt;!channel&gt; hi &lt;@U123&gt; &amp; co';

export const ALL_STATUSES: RequestStatus[] = ['PENDING', 'GRANTING', 'ACTIVE', 'REVOKING', 'REVOKED', 'DENIED', 'EXPIRED', 'CANCELLED', 'FAILED', 'EXTENDED'];

/** CREATED plus `minutes`, as ISO. */
export const at = (minutes: number) => new Date(Date.parse(CREATED) + minutes * 60_000).toISOString();

/** A target's effective policy: APPROVER alone, one approval, 30m to decide, no break-glass, 8h in all. */
export function policy(overrides: Partial<TargetPolicy> = {}): TargetPolicy {
  return {
    approvers: { users: [APPROVER], groups: [] },
    approvalsRequired: 1,
    approvalTimeoutMs: 30 * 60_000,
    breakGlass: false,
    maxTotalDurationMs: 8 * 3_600_000,
    ...overrides,
  };
}

/** What `/jit targets` shows of `t` (by default: its policy, nothing auto-approved or refused). */
export function summary(t: Target, overrides: Partial<TargetSummary> = {}): TargetSummary {
  return {
    target: t,
    approvers: t.policy.approvers,
    approvalsRequired: t.policy.approvalsRequired,
    breakGlass: t.policy.breakGlass,
    maxTotalDurationMs: t.policy.maxTotalDurationMs,
    ...overrides,
  };
}

/** An ec2-ssh target. */
export function target(overrides: Partial<Ec2SshTarget> = {}): Ec2SshTarget {
  return {
    name: 'prod-bastion',
    kind: 'ec2-ssh',
    description: 'Bastion host in the production VPC',
    securityGroupId: 'sg-0123456789abcdef0',
    port: 22,
    host: 'bastion.prod.example.com',
    sshUser: 'ubuntu',
    minDurationMs: 15 * 60_000,
    maxDurationMs: 4 * 3_600_000,
    tags: {},
    policy: policy(),
    ...overrides,
  };
}

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/jit/ProdReadOnly';
export const SSM_ROLE_ARN = 'arn:aws:iam::123456789012:role/jit/SsmDevAccess';
export const ASSUMED_ROLE_ARN = 'arn:aws:sts::123456789012:assumed-role/ProdReadOnly/jit-abc123';

/** An aws-role target. */
export function roleTarget(overrides: Partial<AwsRoleTarget> = {}): AwsRoleTarget {
  return {
    name: 'prod-readonly',
    kind: 'aws-role',
    description: 'Read-only access to the production account',
    roleArn: ROLE_ARN,
    region: 'eu-west-1',
    minDurationMs: 15 * 60_000,
    maxDurationMs: 12 * 3_600_000,
    tags: {},
    policy: policy(),
    ...overrides,
  };
}

/** An ssm-session target selecting nodes by tag. */
export function ssmTarget(overrides: Partial<SsmSessionTarget> = {}): SsmSessionTarget {
  return {
    name: 'dev-nodes',
    kind: 'ssm-session',
    instanceIds: [],
    nodeTags: { ENV: 'dev' },
    documentName: 'SSM-SessionManagerRunShell',
    roleArn: SSM_ROLE_ARN,
    region: 'eu-west-1',
    minDurationMs: 15 * 60_000,
    maxDurationMs: 3_600_000,
    tags: {},
    policy: policy(),
    ...overrides,
  };
}

export function ec2Grant(overrides: Partial<Ec2Grant> = {}): Ec2Grant {
  return {
    kind: 'ec2-ssh',
    region: 'eu-west-1',
    securityGroupId: 'sg-0123456789abcdef0',
    securityGroupRuleId: 'sgr-0abc',
    cidr: '203.0.113.7/32',
    port: 22,
    ...overrides,
  };
}

export function roleGrant(overrides: Partial<RoleGrant> = {}): RoleGrant {
  return {
    kind: 'aws-role',
    region: 'eu-west-1',
    roleArn: ROLE_ARN,
    roleId: 'AROAEXAMPLEROLEID0001',
    roleSessionName: 'jit-abc123',
    sourceIdentity: 'alice@example.com',
    assumedRoleArn: ASSUMED_ROLE_ARN,
    durationSeconds: 1800,
    ...overrides,
  };
}

export function ssmGrant(overrides: Partial<SsmGrant> = {}): SsmGrant {
  return {
    kind: 'ssm-session',
    region: 'eu-west-1',
    roleArn: SSM_ROLE_ARN,
    roleId: 'AROAEXAMPLEROLEID0002',
    roleSessionName: 'jit-abc123',
    sourceIdentity: 'alice@example.com',
    assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/SsmDevAccess/jit-abc123',
    durationSeconds: 1800,
    instanceIds: ['i-0123456789abcdef0', 'i-0fedcba9876543210'],
    documentName: 'SSM-SessionManagerRunShell',
    ...overrides,
  };
}

/** Credentials shaped like STS's, with a session token of `tokenLength` characters. */
export function credentials(tokenLength = 1_200, overrides: Partial<IssuedCredentials> = {}): IssuedCredentials {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=';
  const token = Array.from({ length: tokenLength }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');
  return {
    accessKeyId: 'ASIAEXAMPLEKEY012345',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY+',
    sessionToken: token,
    expiration: '2026-11-22T10:36:00.000Z',
    region: 'eu-west-1',
    assumedRoleArn: ASSUMED_ROLE_ARN,
    ...overrides,
  };
}

/** A PENDING ec2-ssh request for 30 minutes, created at CREATED. */
export function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: 'jit-abc123',
    version: 1,
    status: 'PENDING',
    kind: 'ec2-ssh',
    targetName: 'prod-bastion',
    requesterId: REQUESTER,
    reason: 'investigating checkout latency',
    durationMs: 30 * 60_000,
    cidr: '203.0.113.7/32',
    createdAt: CREATED,
    approvalDeadline: at(30),
    approvalsRequired: 1,
    audit: [],
    outbox: {},
    ...overrides,
  };
}

/** A request as it looks in `status`, with the fields the lifecycle sets on the way there. */
export function inStatus(status: RequestStatus, overrides: Partial<AccessRequest> = {}): AccessRequest {
  const decided = { decidedBy: APPROVER, decidedAt: at(5) };
  const approved: Partial<AccessRequest> = { ...decided, approvals: [{ by: APPROVER, at: at(5) }], approvedVia: 'approvers' };
  const granted = { ...approved, grantedAt: at(6), expiresAt: at(36), warnAt: at(31) };
  const byStatus: Record<RequestStatus, Partial<AccessRequest>> = {
    PENDING: {},
    GRANTING: approved,
    ACTIVE: granted,
    REVOKING: { ...granted, endReason: 'expired', endedBy: 'system' },
    REVOKED: { ...granted, endReason: 'expired', endedBy: 'system', endedAt: at(36) },
    DENIED: decided,
    EXPIRED: {},
    CANCELLED: { endedBy: REQUESTER, endedAt: at(3) },
    FAILED: { ...approved, failure: 'aws-not-found', failureRef: '7KQ3M9XD' },
    // An extension request whose 30m were added to PARENT, which now ends at 11:06.
    EXTENDED: { ...approved, extends: PARENT, grantedAt: at(6), expiresAt: at(66) },
  };
  return request({ status, ...byStatus[status], ...overrides });
}

/** An aws-role request in `status` (no address; ACTIVE and later carry a role grant). */
export function roleRequest(status: RequestStatus, overrides: Partial<AccessRequest> = {}): AccessRequest {
  const granted = ['ACTIVE', 'REVOKING', 'REVOKED'].includes(status);
  return inStatus(status, { kind: 'aws-role', targetName: 'prod-readonly', cidr: undefined, ...(granted ? { grant: roleGrant() } : {}), ...overrides });
}

/** An ssm-session request in `status` (no address; ACTIVE and later carry an SSM grant). */
export function ssmRequest(status: RequestStatus, overrides: Partial<AccessRequest> = {}): AccessRequest {
  const granted = ['ACTIVE', 'REVOKING', 'REVOKED'].includes(status);
  return inStatus(status, { kind: 'ssm-session', targetName: 'dev-nodes', cidr: undefined, ...(granted ? { grant: ssmGrant() } : {}), ...overrides });
}

/** Anything in a message that looks like a credential (or the names of one). */
export const CREDENTIAL_LIKE = /\b(?:AKIA|ASIA)[A-Z0-9]{12,}|aws_secret_access_key|aws_session_token|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_ACCESS_KEY_ID|SessionToken|SecretAccessKey/;

type TextObject = { type: string; text: string };

/** Every text object (anything shaped { type, text: string }) anywhere in a value. */
export function textObjects(value: unknown): TextObject[] {
  if (Array.isArray(value)) return value.flatMap(textObjects);
  if (value === null || typeof value !== 'object') return [];
  const obj = value as Record<string, unknown>;
  const own = typeof obj.text === 'string' && (obj.type === 'mrkdwn' || obj.type === 'plain_text') ? [obj as TextObject] : [];
  return [...own, ...Object.values(obj).flatMap(textObjects)];
}

/** Asserts Slack's per-block limits for a message's blocks (and that no text object is empty). */
export function expectBlocksWithinLimits(blocks: KnownBlock[]): void {
  expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
  for (const block of blocks) {
    switch (block.type) {
      case 'header':
        expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
        break;
      case 'section':
        if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
        expect((block.fields ?? []).length).toBeLessThanOrEqual(LIMITS.sectionFields);
        for (const f of block.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.sectionFieldText);
        break;
      case 'context':
        expect(block.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
        for (const e of block.elements) if ('text' in e) expect(e.text.length).toBeLessThanOrEqual(LIMITS.contextText);
        break;
      case 'actions':
        for (const e of block.elements) {
          if (e.type !== 'button') continue;
          expect(e.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
          expect((e.value ?? '').length).toBeLessThanOrEqual(LIMITS.buttonValue);
        }
        break;
    }
  }
  for (const t of textObjects(blocks)) expect(t.text.length).toBeGreaterThan(0);
}

export function expectMessageWithinLimits(message: { text: string; blocks: KnownBlock[] }): void {
  expect(message.text.length).toBeGreaterThan(0);
  expect(message.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
  expectBlocksWithinLimits(message.blocks);
}

/** Nothing a user typed can ping: no raw "<!channel>" or "<@U123>" anywhere in the message. */
export function expectNoRawPing(message: unknown): void {
  const json = JSON.stringify(message);
  expect(json).not.toContain('<!channel>');
  expect(json).not.toContain('<@U123>');
}
