/**
 * The Prometheus adapter: names, labels, a registry per instance, the backlog read per scrape.
 */
import { BACKLOG_BOUND, Metrics } from '../src/metrics';
import { sample } from './support/metrics';

const NOW = Date.parse('2026-11-22T10:00:00.000Z');

describe('Metrics', () => {
  it('every metric name starts with jit_, process metrics included', async () => {
    const text = await new Metrics({ now: () => NOW }).render();
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => !n.startsWith('jit_'))).toEqual([]);
    for (const n of ['jit_requests_total', 'jit_grants_total', 'jit_revocations_total', 'jit_revoke_lateness_seconds', 'jit_due_backlog', 'jit_outbox_backlog', 'jit_outbox_oldest_age_seconds', 'jit_aws_errors_total', 'jit_slack_rate_limited_total', 'jit_slack_ack_seconds', 'jit_drift_removals_total', 'jit_process_cpu_user_seconds_total', 'jit_nodejs_eventloop_lag_seconds']) {
      expect(names).toContain(n);
    }
  });

  it('counts what the core reports, with zeroed grant and revocation series from the start', async () => {
    const m = new Metrics({ now: () => NOW, defaultMetrics: false });
    expect(sample(await m.render(), 'jit_revocations_total{kind="ec2-ssh",outcome="failed"}')).toBe(0);
    m.requestSubmitted('ec2-ssh', 'pending');
    m.requestSubmitted('ec2-ssh', 'pending');
    m.requestSubmitted('unknown', 'invalid');
    m.approval(false);
    m.approval(true);
    m.grant('ec2-ssh', 'ok');
    m.revocation('aws-role', 'retried');
    m.revocation('aws-role', 'verified');
    m.revokeLateness('aws-role', 2.5);
    m.approveToActive('ec2-ssh', 0.3);
    m.sweepRan(NOW);
    m.driftRemoval('removed');
    m.notification('retried');
    m.awsError('EC2', 'RequestLimitExceeded');
    m.slackRateLimited('https://slack.com/api/chat.postMessage');
    const text = await m.render();
    expect(sample(text, 'jit_requests_total{kind="ec2-ssh",outcome="pending"}')).toBe(2);
    expect(sample(text, 'jit_requests_total{kind="unknown",outcome="invalid"}')).toBe(1);
    expect(sample(text, 'jit_approvals_total{quorum="met"}')).toBe(1);
    expect(sample(text, 'jit_approvals_total{quorum="waiting"}')).toBe(1);
    expect(sample(text, 'jit_grants_total{kind="ec2-ssh",outcome="ok"}')).toBe(1);
    expect(sample(text, 'jit_revocations_total{kind="aws-role",outcome="verified"}')).toBe(1);
    expect(sample(text, 'jit_revocations_total{kind="aws-role",outcome="retried"}')).toBe(1);
    expect(sample(text, 'jit_revoke_lateness_seconds_bucket{le="2",kind="aws-role"}')).toBe(0);
    expect(sample(text, 'jit_revoke_lateness_seconds_bucket{le="5",kind="aws-role"}')).toBe(1);
    expect(sample(text, 'jit_revoke_lateness_seconds_sum{kind="aws-role"}')).toBe(2.5);
    expect(sample(text, 'jit_approve_to_active_seconds_count{kind="ec2-ssh"}')).toBe(1);
    expect(sample(text, 'jit_sweeps_total')).toBe(1);
    expect(sample(text, 'jit_sweep_last_run_timestamp_seconds')).toBe(NOW / 1000);
    expect(sample(text, 'jit_drift_removals_total{outcome="removed"}')).toBe(1);
    expect(sample(text, 'jit_notifications_total{outcome="retried"}')).toBe(1);
    expect(sample(text, 'jit_aws_errors_total{service="EC2",code="RequestLimitExceeded"}')).toBe(1);
    expect(sample(text, 'jit_slack_rate_limited_total{method="chat.postMessage"}')).toBe(1);
  });

  it('keeps one registry per instance (several bots in one process)', async () => {
    const a = new Metrics({ now: () => NOW });
    const b = new Metrics({ now: () => NOW });
    a.grant('ec2-ssh', 'ok');
    expect(sample(await a.render(), 'jit_grants_total{kind="ec2-ssh",outcome="ok"}')).toBe(1);
    expect(sample(await b.render(), 'jit_grants_total{kind="ec2-ssh",outcome="ok"}')).toBe(0);
  });

  it('reads the backlog on every scrape; a failed read keeps the last values', async () => {
    let fail = false;
    let due = 7;
    const m = new Metrics({
      now: () => NOW,
      defaultMetrics: false,
      backlog: async () => {
        if (fail) throw new Error('connect ECONNREFUSED');
        return { due, outbox: 2, outboxOldestAt: NOW - 90_000 };
      },
    });
    let text = await m.render();
    expect([sample(text, 'jit_due_backlog'), sample(text, 'jit_outbox_backlog'), sample(text, 'jit_outbox_oldest_age_seconds')]).toEqual([7, 2, 90]);
    due = 8;
    expect(sample(await m.render(), 'jit_due_backlog')).toBe(8);
    fail = true;
    text = await m.render();
    expect(sample(text, 'jit_due_backlog')).toBe(8);
    expect(BACKLOG_BOUND).toBeGreaterThan(0);
  });
});
