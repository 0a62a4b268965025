/**
 * The drift sweep: each provider's housekeeping, and the EC2 rules on the managed security groups
 * that carry our tag but that no live grant holds (left by a crash, a manual restore, a bug).
 */
import { isRequestId } from '../domain/ids';
import type { ObservedRule } from '../domain/types';
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
   * Finds rules on the managed security groups that carry our tag but that no live grant holds
   * and removes them; reports rules without our tag and never touches them.
   */
  async sweep(): Promise<DriftReport> {
    const report: DriftReport = { removed: [], untagged: [], failed: [], cleaned: [] };
    const now = this.s.clock.now();
    for (const provider of Object.values(this.s.providers)) {
      if (!provider?.cleanup) continue;
      try {
        report.cleaned.push(...(await provider.cleanup(this.s.config.targets.filter((t) => t.kind === provider.kind), now)));
      } catch (err) {
        // One kind's housekeeping failing must not stop the others (the ec2 sweep below above all).
        this.s.log.error({ event: 'drift.cleanup_failed', kind: provider.kind, err: errorText(err) }, 'housekeeping failed; will retry next sweep');
      }
    }
    const groups = new Map<string, { region: string; securityGroupId: string }>();
    for (const t of this.s.config.targets) {
      if (t.kind !== 'ec2-ssh') continue;
      const region = t.region ?? this.s.defaultRegion;
      groups.set(`${region}#${t.securityGroupId}`, { region, securityGroupId: t.securityGroupId });
    }
    const provider = this.s.providers['ec2-ssh'];
    if (!provider?.listRules || !provider.removeRule || groups.size === 0) return report;
    for (const rule of await provider.listRules([...groups.values()])) {
      if (!rule.managed) {
        report.untagged.push(rule);
        continue;
      }
      if (await this.isHeld(rule)) continue;
      const result = await provider.removeRule(rule).catch(() => ({ removed: false, verified: false }));
      (result.verified ? report.removed : report.failed).push(rule);
      this.s.log.warn({ event: 'drift.orphan', rule, removed: result.removed, verified: result.verified }, 'removed a tagged rule that no live grant holds');
    }
    return report;
  }

  /** A tagged rule is live while a grant holds it or its request is still being granted or revoked. */
  private async isHeld(rule: ObservedRule): Promise<boolean> {
    if ((await this.s.registry.holders(`${rule.region}#${rule.securityGroupRuleId}`)).length > 0) return true;
    // The tag is read from AWS, not trusted: a value that is not a request id is no grant of ours.
    if (!rule.requestId || !isRequestId(rule.requestId)) return false;
    const request = await this.s.store.get(rule.requestId);
    return request?.status === 'GRANTING' || request?.status === 'REVOKING';
  }
}
