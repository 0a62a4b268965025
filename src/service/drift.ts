/**
 * The drift sweep: every provider's housekeeping (cleanup), then every provider's own drift sweep
 * (ec2-ssh: tagged rules no live grant holds are removed, untagged ones reported), each with the
 * configured targets of its kind. The core only says which requests are still live.
 */
import { isRequestId } from '../domain/ids';
import { isTerminal, type ObservedRule, type RequestStatus } from '../domain/types';
import type { DriftContext } from '../ports';
import { errorText, type Settings } from './shared';

export interface DriftReport {
  /** Rules carrying our tag that no live grant holds: removed. */
  removed: ObservedRule[];
  /** Rules on managed groups without our tag: reported, never touched. */
  untagged: ObservedRule[];
  /** Rules we tried to remove but AWS did not confirm. */
  failed: ObservedRule[];
  /** Other housekeeping done (e.g. expired deny policies removed from roles). */
  cleaned: string[];
}

export class Drift {
  constructor(private readonly s: Settings) {}

  /**
   * One kind failing does not stop the others; a failed drift sweep fails the whole sweep (after
   * the others ran), so the scheduler logs and retries it.
   */
  async sweep(): Promise<DriftReport> {
    const report: DriftReport = { removed: [], untagged: [], failed: [], cleaned: [] };
    const now = this.s.clock.now();
    for (const provider of Object.values(this.s.providers)) {
      if (!provider?.cleanup) continue;
      try {
        report.cleaned.push(...(await provider.cleanup(this.s.config.targets.filter((t) => t.kind === provider.kind), now)));
      } catch (err) {
        // One kind's housekeeping failing must not stop the others (the drift sweeps below above all).
        this.s.log.error({ event: 'drift.cleanup_failed', kind: provider.kind, err: errorText(err) }, 'housekeeping failed; will retry next sweep');
      }
    }
    const ctx: DriftContext = { now, isLive: (requestId) => this.isLive(requestId), liveOf: (requestIds) => this.liveOf(requestIds), endedOf: (requestIds) => this.endedOf(requestIds) };
    let failure: unknown;
    for (const provider of Object.values(this.s.providers)) {
      if (!provider?.sweepDrift) continue;
      try {
        const found = await provider.sweepDrift(this.s.config.targets.filter((t) => t.kind === provider.kind), ctx);
        report.untagged.push(...found.untagged);
        report.removed.push(...found.removed);
        report.failed.push(...found.failed);
        report.cleaned.push(...(found.cleaned ?? []));
        for (const rule of [...found.removed, ...found.failed]) {
          this.s.log.warn({ event: 'drift.orphan', kind: provider.kind, rule, verified: found.removed.includes(rule) }, 'removed a tagged rule that no live grant holds');
        }
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
    return report;
  }

  /** Is the request still being granted or revoked? The id comes from an AWS tag: one that is not a request id is no grant of ours. */
  private async isLive(requestId: string): Promise<boolean> {
    if (!isRequestId(requestId)) return false;
    const request = await this.s.store.get(requestId);
    return isLiveStatus(request?.status);
  }

  /** The same for many tag values: one batched read of those that are request ids, nothing read for the rest. */
  private liveOf(requestIds: readonly string[]): Promise<Set<string>> {
    return this.idsWhere(requestIds, isLiveStatus);
  }

  /** Which of these requests have ended (a final status), in one batched read. */
  private endedOf(requestIds: readonly string[]): Promise<Set<string>> {
    return this.idsWhere(requestIds, isTerminal);
  }

  /** The ids among `requestIds` (request ids only: anything else is dropped unread) whose stored status passes `keep`. */
  private async idsWhere(requestIds: readonly string[], keep: (status: RequestStatus) => boolean): Promise<Set<string>> {
    const ids = requestIds.filter((id) => isRequestId(id));
    const found = new Set<string>();
    if (ids.length === 0) return found;
    for (const [id, request] of await this.s.store.getMany(ids)) if (keep(request.status)) found.add(id);
    return found;
  }
}

function isLiveStatus(status: string | undefined): boolean {
  return status === 'GRANTING' || status === 'REVOKING';
}
