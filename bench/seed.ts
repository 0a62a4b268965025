/**
 * Seeds N live (ACTIVE) ec2-ssh grants through the store port, as N real grants would have left
 * them, without N Slack round trips: each request is stored ACTIVE (with its request, approve and
 * grant audit records, due at its expiry warning) and joins its rule's holder registry; the
 * caller opens the rule itself (at the EC2 stand-in) and hands back its id. Any StoreAdapter.
 */
import { ruleKey, ruleDescription, ruleTagKeys, ruleTags } from '../src/aws/ec2-ssh';
import type { AccessRequest, Ec2Grant } from '../src/domain/types';
import type { StoreAdapter } from '../src/ports';

export interface SeedTarget {
  name: string;
  securityGroupId: string;
  port: number;
  region: string;
}

export interface SeedRule {
  groupId: string;
  cidr: string;
  port: number;
  description: string;
  tags: Record<string, string>;
}

export interface SeedOptions {
  target: SeedTarget;
  /** The grants expire this far from now, spread over `spreadMs` (default: none). */
  expiresInMs: number;
  spreadMs?: number;
  /** The expiry warning comes this long before expiry (the config's expiryWarning). */
  warningMs: number;
  approver: string;
  requesterOf?: (i: number) => string;
  /** Opens the rule at EC2 (the stand-in) and returns its id. */
  openRule(rule: SeedRule): string | Promise<string>;
  /** Store calls in flight at once (default 20). */
  concurrency?: number;
}

/** The i-th seeded address: 10,000s of distinct /32s in the benchmarking range 198.18.0.0/15. */
/** A rule's four tags as the bot writes them, as the EC2 stand-in's seedRule takes them (key → value). */
export function seedRuleTags(requestId: string, requesterId: string, expiresAt: Date, keys = ruleTagKeys()): Record<string, string> {
  return Object.fromEntries(ruleTags(keys, requestId, requesterId, expiresAt).map((t) => [t.Key!, t.Value!]));
}

export const seedAddress = (i: number): string => `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`;

/** A seeded request id: `jit-` and 10 characters of the id alphabet. */
export function seedId(i: number): string {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let tail = '';
  for (let k = 0, v = i; k < 6; k++, v = Math.floor(v / 32)) tail = alphabet[v % 32]! + tail;
  return `jit-seed${tail}`;
}

/** Stores `n` ACTIVE grants; returns their ids. */
export async function seedLiveGrants(store: StoreAdapter, n: number, o: SeedOptions): Promise<string[]> {
  const now = Date.now();
  const ids: string[] = [];
  const keys = ruleTagKeys();
  let next = 0;
  const one = async (i: number) => {
    const id = seedId(i);
    const requesterId = o.requesterOf?.(i) ?? `U0SEED${String(i % 1000).padStart(4, '0')}`;
    const cidr = `${seedAddress(i)}/32`;
    const expiresAt = new Date(now + o.expiresInMs + (o.spreadMs ? Math.floor((i / n) * o.spreadMs) : 0));
    const durationMs = o.expiresInMs + 60_000;
    const createdAt = new Date(now - 60_000).toISOString();
    const grantedAt = new Date(expiresAt.getTime() - durationMs).toISOString();
    const warnAt = expiresAt.getTime() - o.warningMs;
    const base: AccessRequest = {
      id,
      version: 3,
      status: 'ACTIVE',
      kind: 'ec2-ssh',
      targetName: o.target.name,
      requesterId,
      reason: `bench seed ${i}`,
      durationMs,
      cidr,
      createdAt,
      approvalDeadline: new Date(now + 30 * 60_000).toISOString(),
      approvals: [{ by: o.approver, at: grantedAt }],
      approvalsRequired: 1,
      approvedVia: 'approvers',
      decidedBy: o.approver,
      decidedAt: grantedAt,
      audit: [],
      outbox: {},
    };
    const securityGroupRuleId = await o.openRule({
      groupId: o.target.securityGroupId,
      cidr,
      port: o.target.port,
      description: ruleDescription(base, expiresAt),
      tags: seedRuleTags(id, requesterId, expiresAt, keys),
    });
    const grant: Ec2Grant = { kind: 'ec2-ssh', region: o.target.region, securityGroupId: o.target.securityGroupId, securityGroupRuleId, cidr, port: o.target.port };
    const request: AccessRequest = {
      ...base,
      grant,
      grantedAt,
      expiresAt: expiresAt.toISOString(),
      warnAt: new Date(warnAt).toISOString(),
      warned: false,
      dueAt: warnAt,
      audit: [
        { at: createdAt, actor: requesterId, action: 'request', from: null, to: 'PENDING', details: { target: o.target.name, durationMs: String(durationMs), cidr } },
        { at: grantedAt, actor: o.approver, action: 'approve', from: 'PENDING', to: 'GRANTING' },
        { at: grantedAt, actor: 'system', action: 'grant', from: 'GRANTING', to: 'ACTIVE' },
      ],
    };
    await store.create(request);
    await store.join(ruleKey(grant), id);
    ids[i] = id;
  };
  await Promise.all(
    Array.from({ length: Math.min(o.concurrency ?? 20, n) }, async () => {
      for (let i = next++; i < n; i = next++) await one(i);
    }),
  );
  return ids;
}
