/**
 * Fault injection against the REAL bot: compiled once, run as child processes (`node
 * dist/src/main.js`) that share one store endpoint (dynalite), one fake EC2 and one Slack
 * stand-in. Processes are killed with SIGKILL at the crash points the bot exposes
 * (JIT_TEST_CRASH_AT), EC2 throttles, Slack answers 429/500, and a bot stays down through fifty
 * expiries. After every scenario: nothing is left behind (see assertNothingLeftBehind).
 *
 * Lateness bounds (revoked audit time − expiresAt), from the configuration in support.ts
 * (sweepInterval 1s, lease 3s):
 *   - kill -9 scenarios: lease 3s + sweep 1s + restart of the second bot (~1–2s here) + backoff
 *     margin → ≤ 15s;
 *   - EC2 throttled ×4: the SDK's own 3 attempts with throttling backoff (≤ 1s + 2s), the bot's
 *     first retry (≤ 1s), the 4th throttle's SDK backoff (≤ 1s), plus the calls → ≤ 8s;
 *   - Slack failing: Slack is not on the revocation path → ≤ 5s (timer-exact in practice);
 *   - bot down through 50 expiries: measured from the new bot's readiness → ≤ 10s.
 * The figures are printed at the end and written to $TMPDIR/jit-fault-lateness.json.
 */
import { LIFECYCLE_FAULT_POINTS } from '../../src/ports';
import { waitFor } from '../../testkit/wait';
import {
  APPROVER,
  APPROVER2,
  approvalMessage,
  CONFIG_YAML,
  approve,
  assertNothingLeftBehind,
  hasApproveButton,
  inBatches,
  killAll,
  LONG_GRANT,
  moveExpiry,
  newScenario,
  nextAddress,
  recordLateness,
  request,
  SECURITY_GROUP,
  type Scenario,
  setUpInfra,
  shared,
  tearDownInfra,
  useUpSlackFailures,
  waitForStatus,
  withBotLogs,
  writeLatenessReport,
} from './support';

const REQUESTER = 'U0REQUESTER';
const CRASH_BOUND_MS = 15_000;
const THROTTLE_BOUND_MS = 8_000;
const SLACK_DOWN_BOUND_MS = 5_000;
const RESTART_BOUND_MS = 10_000;
/** After a deploy, from the new bot answering: its first sweep (at start) plus the AWS calls. */
const DEPLOY_BOUND_MS = 5_000;

const messageText = (id: string) => {
  const m = approvalMessage(id);
  return `${String(m?.text ?? '')}\n${JSON.stringify(m?.blocks ?? [])}`;
};

/** Resolves when the approval message shows the final state (Access ended) and no buttons. */
async function approvalMessageEnded(id: string, timeoutMs: number): Promise<void> {
  await waitFor(() => !hasApproveButton(approvalMessage(id)) && messageText(id).includes('Access ended'), {
    timeoutMs,
    intervalMs: 100,
    message: () => `approval message of ${id} updated to its final state; now: ${messageText(id).slice(0, 300)}`,
  });
}

/** Waits until wall-clock time is `fromMs`–`toMs` past a whole second (see the replica scenario). */
async function atSubsecond(fromMs: number, toMs: number): Promise<void> {
  await waitFor(
    () => {
      const ms = Date.now() % 1000;
      return ms >= fromMs && ms <= toMs;
    },
    { timeoutMs: 2_000, intervalMs: 2, message: `clock between .${fromMs} and .${toMs}` },
  );
}

beforeAll(async () => {
  await setUpInfra();
}, 120_000);

afterEach(async () => {
  await killAll();
});

afterAll(async () => {
  writeLatenessReport();
  await tearDownInfra();
});

/** Where each crash point leaves the request, and whether the Approve click itself is cut. */
const CRASH: Record<(typeof LIFECYCLE_FAULT_POINTS)[number], { leftIn: 'GRANTING' | 'ACTIVE' | 'REVOKING'; ruleInEc2: boolean; diesOnApprove: boolean }> = {
  'after-grant-intent': { leftIn: 'GRANTING', ruleInEc2: false, diesOnApprove: true },
  'after-grant-aws': { leftIn: 'GRANTING', ruleInEc2: true, diesOnApprove: true },
  'after-active': { leftIn: 'ACTIVE', ruleInEc2: true, diesOnApprove: true },
  'after-revoke-intent': { leftIn: 'REVOKING', ruleInEc2: true, diesOnApprove: false },
  'after-revoke-aws': { leftIn: 'REVOKING', ruleInEc2: false, diesOnApprove: false },
};

describe('kill -9 at each crash point: a second bot on the same table finishes the job', () => {
  it.each([...LIFECYCLE_FAULT_POINTS])(
    '%s',
    async (point) => {
      const s = await newScenario(`kill-${point}`);
      await withBotLogs(s, async () => {
        const { fakeEc2 } = shared();
        const a = await s.startBot('A', { crashAt: [point] });
        const id = await request(s, a, REQUESTER, '4s', nextAddress());
        await approve(a, APPROVER, id, { crashing: CRASH[point].diesOnApprove });

        // A dies where it was told to: during the approval, or at expiry when its own timer revokes.
        expect(await a.waitForExit(CRASH[point].diesOnApprove ? 10_000 : 15_000)).toEqual({ code: null, signal: 'SIGKILL' });
        expect(a.output.join('\n')).toContain(`JIT_TEST_CRASH_AT=${point}: killing the process (request ${id})`);
        const left = await s.store.get(id);
        expect(left?.status).toBe(CRASH[point].leftIn);
        expect(fakeEc2.rules().some((r) => r.tags['jit:request-id'] === id)).toBe(CRASH[point].ruleInEc2);

        const b = await s.startBot('B');
        const [done] = await waitForStatus(s, [id], 'REVOKED', 25_000);
        await assertNothingLeftBehind(s, [id], { boundMs: CRASH_BOUND_MS, group: `kill -9 @ ${point}` });
        // The intent A left behind was taken over by B once A's lease lapsed (or, past ACTIVE, simply swept).
        if (CRASH[point].leftIn !== 'ACTIVE') {
          const claims = done!.audit.filter((e) => e.action.startsWith('claim-'));
          expect(claims.map((e) => e.details?.owner)).toContain(b.owner());
        }

        // Slack caught up after the recovery: the approval message shows the end, without buttons.
        // At once, unless A was killed holding a delivery claim on one of the request's messages:
        // then the messages wait (in order) until that claim lapses and B's outbox poll (every 2s)
        // takes them over.
        const seenAt = Date.now();
        const stale = Object.values((await s.store.get(id))!.outbox as Record<string, { kind: string; claimedBy?: string; claimUntil?: number }>).find((n) => n.claimedBy === a.owner());
        const waitMs = stale ? Math.max(0, stale.claimUntil! - seenAt) + 2_000 + 5_000 : 5_000;
        await approvalMessageEnded(id, waitMs);
        recordLateness(stale ? `Slack catch-up, killed bot held a delivery claim` : 'Slack catch-up, no claim left', [Date.now() - seenAt], waitMs);
      });
    },
    90_000,
  );
});

it('three replicas share the table; A dies mid-revoke; each rule revoked once', async () => {
  const s = await newScenario('replicas');
  await withBotLogs(s, async () => {
    const [a, b] = await Promise.all([s.startBot('A', { crashAt: ['after-revoke-intent'] }), s.startBot('B'), s.startBot('C')]);
    const viaA = await inBatches([0, 1, 2], 3, () => request(s, a!, REQUESTER, '4s', nextAddress()));
    const viaB = await inBatches([0, 1, 2], 3, () => request(s, b!, REQUESTER, '4s', nextAddress()));
    await Promise.all(viaB.map((id, i) => approve(b!, i % 2 ? APPROVER : APPROVER2, id)));
    // Approve A's three at the start of a second. A arms in-process timers for its own writes
    // (warning at +3.2s, expiry at +4s, both ~.1–.4 past a whole second), so they fire before B's
    // and C's whole-second cron sweeps and before the timers those sweeps arm (SWEEP_ARMED_GRACE_MS
    // after the due time): A wins an expiry, and dies right after storing REVOKING.
    await atSubsecond(20, 120);
    await Promise.all(viaA.map((id, i) => approve(a!, i % 2 ? APPROVER : APPROVER2, id)));

    expect(await a!.waitForExit(15_000)).toEqual({ code: null, signal: 'SIGKILL' });
    const crashedOn = /JIT_TEST_CRASH_AT=after-revoke-intent: killing the process \(request (jit-[0-9a-z]{10})\)/.exec(a!.output.join('\n'))?.[1];
    expect(crashedOn).toBeDefined();

    const all = [...viaA, ...viaB];
    const done = await waitForStatus(s, all, 'REVOKED', 25_000);
    await assertNothingLeftBehind(s, all, { boundMs: CRASH_BOUND_MS, group: 'replicas x3, A dies mid-revoke' });

    // The revoke A started was finished by a surviving replica after A's lease lapsed.
    const survivors = s.bots.filter((x) => x !== a).map((x) => x.owner());
    const finished = done.find((r) => r.id === crashedOn)!;
    const claim = finished.audit.find((e) => e.action === 'claim-revoke');
    expect(survivors).toContain(claim?.details?.owner);
  });
}, 90_000);

it('EC2 throttles the next 4 calls at expiry: still revoked within the bound, throttled calls visible', async () => {
  const s = await newScenario('throttle');
  await withBotLogs(s, async () => {
    const { ec2, fakeEc2 } = shared();
    const a = await s.startBot('A');
    const id = await request(s, a, REQUESTER, LONG_GRANT, nextAddress());
    await approve(a, APPROVER, id);
    await waitForStatus(s, [id], 'ACTIVE', 10_000);
    // Nothing calls EC2 between ACTIVE and expiry, so the next 4 calls are the revoke's.
    const mark = ec2.exchanges.length;
    const fakeMark = fakeEc2.calls.length;
    fakeEc2.throttleNext(4);
    await moveExpiry(s, id, Date.now() + 1_000);

    const [done] = await waitForStatus(s, [id], 'REVOKED', 20_000);
    await assertNothingLeftBehind(s, [id], { boundMs: THROTTLE_BOUND_MS, group: 'EC2 throttled x4 at expiry' });

    const grant = done!.grant!;
    if (grant.kind !== 'ec2-ssh') throw new Error('expected an ec2-ssh grant');
    const ruleId = grant.securityGroupRuleId;
    const throttled = ec2.exchanges.slice(mark).filter((x) => x.status === 503);
    expect(throttled).toHaveLength(4);
    expect(throttled.every((x) => x.code === 'RequestLimitExceeded' && x.action === 'RevokeSecurityGroupIngress' && x.params['SecurityGroupRuleId.1'] === ruleId)).toBe(true);
    // The fake saw them too: 4 throttled revokes and the one that went through.
    expect(fakeEc2.calls.slice(fakeMark).filter((c) => c.action === 'RevokeSecurityGroupIngress' && c.params['SecurityGroupRuleId.1'] === ruleId)).toHaveLength(5);
    // The bot's own retry is on record (the SDK's three attempts of the first try were all throttled).
    expect(done!.audit.filter((e) => e.action === 'revoke-retry').map((e) => e.details?.error)).toEqual([expect.stringContaining('RequestLimitExceeded')]);
  });
}, 60_000);

describe('Slack failing on every call after the grant: revocation is on time anyway', () => {
  it.each([
    ['429 (Retry-After 1)', { status: 429, retryAfter: 1, times: 50 }],
    ['500', { status: 500, times: 50 }],
  ] as const)(
    'Slack answers %s',
    async (label, failure) => {
      const s = await newScenario(`slack-${failure.status}`);
      await withBotLogs(s, async () => {
        const { slack } = shared();
        const a = await s.startBot('A');
        const id = await request(s, a, REQUESTER, LONG_GRANT, nextAddress());
        await approve(a, APPROVER, id);
        await waitForStatus(s, [id], 'ACTIVE', 10_000);
        await waitFor(async () => Object.keys((await s.store.get(id))!.outbox).length === 0, { timeoutMs: 10_000, message: 'grant messages delivered' });

        const mark = slack.calls.length;
        slack.failNext('chat.postMessage', { ...failure });
        slack.failNext('chat.update', { ...failure });
        // The warning falls due now (and is refused by Slack), the expiry a moment after it.
        await moveExpiry(s, id, Date.now() + 60_000, Date.now());
        await waitFor(async () => (await s.store.get(id))!.warned === true, { timeoutMs: 10_000, message: 'expiry warning due' });
        await moveExpiry(s, id, Date.now() + 500);
        await waitForStatus(s, [id], 'REVOKED', 15_000);
        const attempts = slack.calls.slice(mark).filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update');
        await assertNothingLeftBehind(s, [id], { boundMs: SLACK_DOWN_BOUND_MS, group: `Slack ${label} on every call` });

        // No message got through (the expiry warning was tried and refused), and the store still
        // owes every message of the revoke.
        expect(attempts.length).toBeGreaterThan(0);
        expect(attempts.filter((c) => !c.failed)).toEqual([]);
        const owed = Object.values((await s.store.get(id))!.outbox).map((n) => n.kind);
        expect(owed).toEqual(expect.arrayContaining(['approval.update', 'dm.ended', 'thread.revoked']));

        // Slack recovers: everything owed is delivered, in order, and the outbox empties.
        await useUpSlackFailures('chat.postMessage');
        await useUpSlackFailures('chat.update');
        await waitFor(async () => Object.keys((await s.store.get(id))!.outbox).length === 0, { timeoutMs: 40_000, intervalMs: 200, message: 'outbox delivered after Slack recovered' });
        const dms = slack.calls.slice(mark).filter((c) => c.method === 'chat.postMessage' && c.args.channel === REQUESTER && !c.failed);
        expect(dms.length).toBeGreaterThanOrEqual(2); // the expiry warning and the "access ended" DM
        await approvalMessageEnded(id, 5_000);
      });
    },
    75_000,
  );
});

it('bot down through 50 expiries: a new bot revokes them all within 10s of its start', async () => {
  const s: Scenario = await newScenario('down-50');
  await withBotLogs(s, async () => {
    const a = await s.startBot('A');
    // Grants long enough that a slow set-up cannot race them (it once did, at 3s): all fifty are
    // ACTIVE when A stops, then their expiries are brought into the past while no bot runs.
    const ids = await inBatches(Array.from({ length: 50 }, (_, i) => i), 5, () => request(s, a, REQUESTER, LONG_GRANT, nextAddress()));
    await inBatches(ids, 10, (id, i) => approve(a, i % 2 ? APPROVER : APPROVER2, id));
    await waitForStatus(s, ids, 'ACTIVE', 30_000);
    a.kill('SIGTERM');
    expect(await a.waitForExit(10_000)).toEqual({ code: 0, signal: null });

    // All fifty expire while no bot runs: spread over the last half second.
    const downAt = Date.now();
    await Promise.all(ids.map((id, i) => moveExpiry(s, id, downAt - 500 + i * 10)));
    const stopped = await Promise.all(ids.map(async (id) => (await s.store.get(id))!));
    expect(stopped.filter((r) => r.status !== 'ACTIVE').map((r) => [r.id, r.status])).toEqual([]);
    const lastExpiry = Math.max(...stopped.map((r) => Date.parse(r.expiresAt!)));

    const b = await s.startBot('B');
    const done = await waitForStatus(s, ids, 'REVOKED', RESTART_BOUND_MS + 5_000);
    // From the new bot's readiness: how long it takes to start (slow on a busy machine) is the
    // start-up figure's business (npm run bench), not revocation's.
    const fromStart = done.map((r) => Date.parse(r.audit.find((e) => e.to === 'REVOKED')!.at) - b.readyAt);
    recordLateness('down through 50 expiries, from new bot ready', fromStart, RESTART_BOUND_MS);
    // Against expiresAt the lateness is mostly downtime; bounded by the spread of expiries + restart.
    const spread = lastExpiry - Math.min(...stopped.map((r) => Date.parse(r.expiresAt!)));
    await assertNothingLeftBehind(s, ids, { boundMs: spread + (b.readyAt - lastExpiry) + RESTART_BOUND_MS, group: 'down through 50 expiries, vs expiresAt' });
    expect(Math.max(...fromStart)).toBeLessThanOrEqual(RESTART_BOUND_MS);
  });
}, 90_000);

it('a deploy: SIGTERM while a revoke waits on EC2, then a new bot; it resumes the revoke and runs its drift sweep at once', async () => {
  const s = await newScenario('deploy');
  await withBotLogs(s, async () => {
    const { ec2, fakeEc2 } = shared();
    // Leases far longer than the bounds below: if a stopping bot did not hand them back, the new
    // one would wait 5 minutes for the revoke and 10 for the drift sweep.
    const config = CONFIG_YAML.replace('lease: 3s', 'lease: 5m').replace('driftInterval: 10m', 'driftInterval: 10m\n  shutdownGrace: 1s');
    const a = await s.startBot('A', { configYaml: config }); // takes the drift lease at its start
    const id = await request(s, a, REQUESTER, LONG_GRANT, nextAddress());
    await approve(a, APPROVER, id);
    await waitForStatus(s, [id], 'ACTIVE', 10_000);
    // A rule carrying the bot's tag that no grant holds (left behind by some earlier failure).
    const orphan = fakeEc2.seedRule({ groupId: SECURITY_GROUP, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '198.51.100.250/32', tags: { 'jit:managed-by': 'jit-access-bot', 'jit:request-id': 'jit-orphan0000' } });

    // The grant runs out; A starts the revoke and EC2 does not answer. The deploy's SIGTERM comes.
    ec2.hold('RevokeSecurityGroupIngress');
    await moveExpiry(s, id, Date.now() + 500);
    await waitFor(() => ec2.held() > 0, { timeoutMs: 10_000, message: 'the revoke reached EC2' });
    expect(await s.store.get(id)).toMatchObject({ status: 'REVOKING', leaseOwner: a.owner() });
    a.kill('SIGTERM');
    expect(await a.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    ec2.dropHeld(); // that call never reached EC2

    // A handed the revoke back (audited) instead of leaving its lease to lapse.
    const handedBack = (await s.store.get(id))!;
    expect(handedBack).toMatchObject({ status: 'REVOKING' });
    expect(handedBack.leaseOwner).toBeUndefined();
    expect(handedBack.audit.at(-1)).toMatchObject({ action: 'release-revoke', actor: 'system', details: { owner: a.owner() } });
    expect(fakeEc2.rules().map((r) => r.securityGroupRuleId)).toContain(orphan.securityGroupRuleId);

    const b = await s.startBot('B', { configYaml: config });
    const [done] = await waitForStatus(s, [id], 'REVOKED', DEPLOY_BOUND_MS + 10_000);
    await waitFor(() => !fakeEc2.rules().some((r) => r.securityGroupRuleId === orphan.securityGroupRuleId), { timeoutMs: DEPLOY_BOUND_MS + 10_000, intervalMs: 50, message: 'the orphaned rule removed by the new bot' });
    const orphanGoneAt = Date.now();
    await assertNothingLeftBehind(s, [id], { boundMs: CRASH_BOUND_MS, group: 'deploy: SIGTERM mid-revoke, vs expiresAt' });

    const resumed = Date.parse(done!.audit.find((e) => e.to === 'REVOKED')!.at) - b.readyAt;
    recordLateness('deploy: revoke finished, from new bot ready', [resumed], DEPLOY_BOUND_MS);
    recordLateness('deploy: orphan removed, from new bot ready (≤)', [orphanGoneAt - b.readyAt], DEPLOY_BOUND_MS);
    expect(done!.audit.filter((e) => e.action === 'claim-revoke').map((e) => e.details?.owner)).toEqual([b.owner()]);
    expect(resumed).toBeLessThanOrEqual(DEPLOY_BOUND_MS);
    expect(orphanGoneAt - b.readyAt).toBeLessThanOrEqual(DEPLOY_BOUND_MS);
  });
}, 90_000);
