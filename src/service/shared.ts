/**
 * What every part of the service shares: its options, the settings resolved from them once, the
 * log of a request, and the errors the parts throw alike.
 */
import type { Logger } from 'pino';
import type { JitConfig } from '../config-types';
import { AlreadyResolvedError, GrantError, NotAllowedError } from '../domain/errors';
import type { AccessRequest, Target } from '../domain/types';
import { type AccessProvider, type Clock, type FaultHook, type GroupDirectory, noTelemetry, type RequestStore, type Telemetry, type UserDirectory } from '../ports';

export interface ServiceOptions {
  config: JitConfig;
  store: RequestStore;
  providers: Partial<Record<Target['kind'], AccessProvider>>;
  clock: Clock;
  log: Logger;
  /** Identifies this replica in leases and logs. */
  owner: string;
  /** How long an intent (GRANTING / REVOKING) is owned before another replica may take over. */
  leaseMs?: number;
  /** Give up granting (FAILED) when AWS keeps failing for this long after approval. */
  grantRetryBudgetMs?: number;
  /** Alert the approver channel after this many failed revoke attempts (retries go on). */
  revokeAlertAfter?: number;
  random?: () => number;
  /** Crash points for fault-injection tests; absent in production. */
  faults?: FaultHook;
  /** Who a Slack user is (STS SourceIdentity); default: their Slack user id. */
  users?: UserDirectory;
  /** Slack user groups named as approvers or requesters; default: none. */
  groups?: GroupDirectory;
  /** Metrics (requests, approvals, grants, revocations, lateness); default: none. */
  telemetry?: Telemetry;
  /** The App Home tab is on: transitions queue a refresh of the requester's home (home.refresh). */
  homeTab?: boolean;
}

/** The options with every default filled in: what the parts of the service read. */
export interface Settings extends ServiceOptions {
  leaseMs: number;
  grantRetryBudgetMs: number;
  revokeAlertAfter: number;
  random: () => number;
  telemetry: Telemetry;
}

const DEFAULT_LEASE_MS = 60_000;

export function settingsOf(o: ServiceOptions): Settings {
  return {
    ...o,
    leaseMs: o.leaseMs ?? DEFAULT_LEASE_MS,
    grantRetryBudgetMs: o.grantRetryBudgetMs ?? 5 * 60_000,
    revokeAlertAfter: o.revokeAlertAfter ?? 5,
    random: o.random ?? Math.random,
    telemetry: o.telemetry ?? noTelemetry,
  };
}

/** Retries of a decision that lost a conditional write to another approver's (quorum). */
export const DECISION_ATTEMPTS = 8;

export function requestLog(s: Settings, request: AccessRequest): Logger {
  return s.log.child({ requestId: request.id });
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The error a user sees when they act on a request that has moved on. The text is plain; the
 * messaging adapter renders the full story (who decided, until when) from the request it carries.
 */
export function resolvedError(request: AccessRequest): AlreadyResolvedError {
  return new AlreadyResolvedError('already-resolved', { id: request.id, status: request.status }, request);
}

/** The provider of a kind of access (a grant of a kind nobody provides cannot go ahead). */
export function providerOf(s: Settings, kind: Target['kind']): AccessProvider {
  const provider = s.providers[kind];
  if (!provider) throw new GrantError(`no access provider for ${kind}`);
  return provider;
}

/** A policy check that throws NotAllowedError as a yes / no (anything else it throws still propagates). */
export function allowed(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch (err) {
    if (err instanceof NotAllowedError) return false;
    throw err;
  }
}
