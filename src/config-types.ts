import type { Ec2Action, TokenBucketShape } from './domain/revocation-limits';
import type { RateLimits } from './domain/safety';
import type { AutoApproveRule, DenyRule, Principals, Target } from './domain/types';

/** The parsed, validated configuration (see src/config.ts for the YAML schema and env). */
export interface JitConfig {
  approverChannel: string;
  /** Optional: every transition is also posted here as one line (through the outbox). Absent: off. */
  auditChannel?: string;
  /** Default approvers (targets may name their own). */
  approvers: Principals;
  defaults: {
    minDurationMs: number;
    maxDurationMs: number;
    approvalTimeoutMs: number;
    /** How long before expiry the warning DM goes out (short grants: at 80% of the grant). */
    expiryWarningMs: number;
  };
  /** Checked first, in file order: a match refuses the request (break-glass included). */
  denyRules: DenyRule[];
  /** Checked in file order after the deny rules: the first rule that matches decides. */
  autoApprove: AutoApproveRule[];
  revocation: {
    /** Seconds between durable sweeps of the due index. */
    sweepIntervalSeconds: number;
    /** Milliseconds between drift sweeps of the managed security groups (one replica at a time). */
    driftIntervalMs: number;
    /** How long a replica owns a grant or revoke in progress before another may take it over. */
    leaseMs: number;
    /** On SIGTERM, how long work already started may finish before its leases are handed back. */
    shutdownGraceMs: number;
    /** Revocations run at once in their own scheduler lane (default DEFAULT_REVOCATION_CONCURRENCY). */
    concurrency?: number;
  };
  /** AWS call pacing: EC2 token buckets per account and Region (default EC2_DOCUMENTED_BUCKETS). */
  aws?: { ec2RateLimits: Record<Ec2Action, TokenBucketShape> };
  /** Guests (single- and multi-channel) may request and approve; default false. External, deleted and bot accounts never may. */
  allowGuests?: boolean;
  /** Per-user limits on requests and break-glass; default DEFAULT_RATE_LIMITS (src/domain/safety.ts). */
  rateLimits?: RateLimits;
  /** Each with its effective policy (`target.policy`): defaults already applied. */
  targets: Target[];
  /**
   * `retention`: how long a resolved request is kept; its terminal transition writes
   * purgeAt = resolution time + this (DynamoDB TTL). parseConfig always sets it; absent (hand-built
   * configs in tests) means DEFAULT_RETENTION_MS.
   */
  retentionMs?: number;
}
