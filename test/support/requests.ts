import type { AccessRequest, Ec2SshTarget, TargetPolicy } from '../../src/domain/types';

let seq = 0;

/** A PENDING ec2-ssh request as the service would create it. */
export function pendingRequest(overrides: Partial<AccessRequest> = {}): AccessRequest {
  seq += 1;
  const createdAt = overrides.createdAt ?? '2026-11-22T10:00:00.000Z';
  return {
    id: `jit-test${String(seq).padStart(4, '0')}`,
    version: 1,
    status: 'PENDING',
    kind: 'ec2-ssh',
    targetName: 'prod-bastion',
    requesterId: 'U0REQUESTER',
    reason: 'investigating checkout latency',
    durationMs: 30 * 60_000,
    cidr: '203.0.113.7/32',
    createdAt,
    approvalDeadline: new Date(Date.parse(createdAt) + 30 * 60_000).toISOString(),
    dueAt: Date.parse(createdAt) + 30 * 60_000,
    audit: [{ at: createdAt, actor: 'U0REQUESTER', action: 'request', from: null, to: 'PENDING' }],
    outbox: {},
    ...overrides,
  };
}

/**
 * A target's effective policy as the config parser produces it with the defaults: one approver
 * (U0APPROVER), one approval, open to everyone, 30m approval timeout, no reminders, no
 * break-glass, 8h total.
 */
export function testPolicy(overrides: Partial<TargetPolicy> = {}): TargetPolicy {
  return {
    approvers: { users: ['U0APPROVER'], groups: [] },
    approvalsRequired: 1,
    approvalTimeoutMs: 30 * 60_000,
    breakGlass: false,
    maxTotalDurationMs: 8 * 3_600_000,
    ...overrides,
  };
}

/** An ec2-ssh target as the config parser produces it. */
export function ec2Target(overrides: Partial<Ec2SshTarget> = {}): Ec2SshTarget {
  return { name: 'prod-bastion', kind: 'ec2-ssh', securityGroupId: 'sg-0123456789abcdef0', port: 22, minDurationMs: 60_000, maxDurationMs: 3_600_000, tags: {}, policy: testPolicy(), ...overrides };
}
