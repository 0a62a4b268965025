/**
 * Ack-path profile (issue 13, item 2): how much a request's work delays the next request's ack,
 * against a bare Bolt app that only acks `/jit`, in the same process and the same run, and the
 * CPU the bot spends per lifecycle.
 *
 *   npm run build && node dist/bench/ack-profile.js [--n 2000] [--c 50] [--lifecycles 100]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/ack-profile.js --only cpu   (a profile)
 *
 * Phases (each after the previous has settled): bare Bolt `/jit request` acks, bot `/jit request`
 * acks, bare `/jit help`, bot `/jit help` (N each at C concurrent, closed loop); then sequential
 * lifecycles (request → approve → grant → revoke) with the process CPU per lifecycle and the store
 * calls per lifecycle (a counter around the store's methods). Prints one JSON line at the end.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { App, HTTPReceiver } from '@slack/bolt';
import { APPROVER_CHANNEL, nowMs, type Stack, startStack } from '../demo/stack';
import { ACTION_APPROVE } from '../blocks/ids';
import type { RequestStore } from '../src/ports';
import { slashCommand } from '../testkit/slack-requests';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ONLY = (() => {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
const N = arg('n', 2000);
const C = arg('c', 50);
const LIFECYCLES = arg('lifecycles', 100);
const SECRET = 'ack-profile-secret-3c9a';
const APPROVER = 'U0ACKAPPR';
const requesterOf = (i: number) => `U0ACKREQ${String(i % 200).padStart(3, '0')}`;
const SG = 'sg-0ac0c0000000000a1';

const CONFIG_YAML = `
approverChannel: ${APPROVER_CHANNEL}
approvers:
  users: [${APPROVER}]
defaults:
  minDuration: 1s
  maxDuration: 4h
  approvalTimeout: 30m
  expiryWarning: 2s
rateLimits:
  requests: { max: 100, per: 1m }
targets:
  - name: ack-bastion
    kind: ec2-ssh
    securityGroupId: ${SG}
    port: 22
    region: eu-west-1
    host: bastion.ack.example.com
`;

const out = (s = '') => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let addressSeq = 0;
const nextAddress = () => {
  const n = addressSeq++;
  return `198.${18 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
};

async function pool(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await op(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

async function acks(url: string, text: (i: number) => string, responseUrl: (i: number) => string): Promise<{ p50: number; p99: number; max: number; wallMs: number }> {
  const times: number[] = [];
  const started = nowMs();
  await pool(N, C, async (i) => {
    const t = nowMs();
    const res = await slashCommand(url, SECRET, { userId: requesterOf(i), text: text(i), responseUrl: responseUrl(i) });
    times.push(nowMs() - t);
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  });
  return { p50: pct(times, 50), p99: pct(times, 99), max: pct(times, 100), wallMs: nowMs() - started };
}

async function settle(s: Stack): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await s.bot.listenersIdle();
    await s.bot.outbox.idle();
    await sleep(200);
  }
}

/**
 * Counts the store's method calls by name, as the rest of the bot makes them (a call the store
 * makes to its own helpers inside one is not counted again).
 */
function countStore(s: Stack): { reset(): void; counts(): Record<string, number> } {
  const store = s.bot.store as unknown as Record<string, unknown>;
  const counts: Record<string, number> = {};
  const inside = new AsyncLocalStorage<true>();
  const proto = Object.getPrototypeOf(store) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const f = proto[name];
    if (name === 'constructor' || typeof f !== 'function') continue;
    store[name] = function (this: unknown, ...args: unknown[]) {
      if (inside.getStore()) return (f as (...a: unknown[]) => unknown).apply(this, args);
      counts[name] = (counts[name] ?? 0) + 1;
      return inside.run(true, () => (f as (...a: unknown[]) => unknown).apply(this, args));
    };
  }
  return {
    reset: () => {
      for (const k of Object.keys(counts)) delete counts[k];
    },
    counts: () => ({ ...counts }),
  };
}

async function main(): Promise<void> {
  const s = await startStack({ configYaml: CONFIG_YAML, logFile: '/tmp/ack-profile/bot.log', owner: 'ack-replica', asyncLog: true, signingSecret: SECRET, botToken: 'xoxb-ack' });
  const bareReceiver = new HTTPReceiver({ signingSecret: SECRET, endpoints: '/slack/events' });
  const bare = new App({ receiver: bareReceiver, token: 'xoxb-bare', botId: 'B0BARE', botUserId: 'U0BARE', clientOptions: { slackApiUrl: s.slack.url } });
  bare.command('/jit', async ({ ack }) => {
    await ack();
  });
  const bareServer = (await bare.start(0)) as import('node:http').Server;
  const bareUrl = `http://127.0.0.1:${(bareServer.address() as import('node:net').AddressInfo).port}/slack/events`;
  const result: Record<string, number | string | Record<string, number>> = {};
  try {
    if (!ONLY || ONLY === 'ack') {
      for (const [name, text] of [
        ['request', () => `request ack-bastion 1h ${nextAddress()} profiling the ack path`],
        ['help', () => 'help'],
      ] as const) {
        const b = await acks(bareUrl, text, (i) => s.slack.responseUrl(`bare-${name}:${i}`));
        await settle(s);
        const j = await acks(s.url, text, (i) => s.slack.responseUrl(`bot-${name}:${i}`));
        const settleStart = nowMs();
        await settle(s);
        out(`${name}: bare p50 ${b.p50.toFixed(1)} p99 ${b.p99.toFixed(1)} max ${b.max.toFixed(1)} ms | bot p50 ${j.p50.toFixed(1)} p99 ${j.p99.toFixed(1)} max ${j.max.toFixed(1)} ms, ${((N / j.wallMs) * 1000).toFixed(0)} acks/s, settled ${(nowMs() - settleStart).toFixed(0)} ms later | ratio ${(j.p99 / b.p99).toFixed(2)}`);
        result[`ack_p99_ratio_${name}`] = Number((j.p99 / b.p99).toFixed(2));
        result[`ack_p99_bot_${name}`] = Number(j.p99.toFixed(1));
        result[`ack_p99_bare_${name}`] = Number(b.p99.toFixed(1));
      }
    }
    if (!ONLY || ONLY === 'cpu') {
      const counter = countStore(s);
      const lifecycle = async (i: number) => {
        const before = s.slack.messagesIn(APPROVER_CHANNEL).length;
        const res = await slashCommand(s.url, SECRET, { userId: requesterOf(i), text: `request ack-bastion 1h ${nextAddress()} lifecycle ${i}`, responseUrl: s.slack.responseUrl(`life:${i}`) });
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        await settle(s);
        const posted = s.slack.messagesIn(APPROVER_CHANNEL).slice(before).find((m) => !m.thread_ts);
        const id = /jit-[0-9a-z]{10}/.exec(String(posted?.text ?? ''))?.[0];
        if (!id) throw new Error('no approval message');
        await s.click(APPROVER, ACTION_APPROVE, id, s.slack.responseUrl(`approve:${i}`));
        await settle(s);
        const r1 = await (s.bot.store as unknown as RequestStore).get(id);
        if (r1?.status !== 'ACTIVE') throw new Error(`${id} is ${r1?.status}, not ACTIVE`);
        await slashCommand(s.url, SECRET, { userId: requesterOf(i), text: `revoke ${id}`, responseUrl: s.slack.responseUrl(`revoke:${i}`) });
        await settle(s);
        const r2 = await (s.bot.store as unknown as RequestStore).get(id);
        if (r2?.status !== 'REVOKED') throw new Error(`${id} is ${r2?.status}, not REVOKED`);
      };
      for (let i = 0; i < 5; i++) await lifecycle(10_000 + i); // warm-up
      counter.reset();
      const cpu = process.cpuUsage();
      const wall = nowMs();
      for (let i = 0; i < LIFECYCLES; i++) await lifecycle(20_000 + i);
      const used = process.cpuUsage(cpu);
      const counts = counter.counts();
      const per: Record<string, number> = {};
      for (const [k, v] of Object.entries(counts)) per[k] = Number((v / LIFECYCLES).toFixed(2));
      // The two store.get calls above per lifecycle are this script's, not the bot's.
      per.get = Number(((counts.get ?? 0) / LIFECYCLES - 2).toFixed(2));
      const total = Object.values(per).reduce((a, b) => a + b, 0);
      out(`lifecycles: ${LIFECYCLES}, process CPU ${((used.user + used.system) / 1000 / LIFECYCLES).toFixed(1)} ms per lifecycle (incl. stand-ins and load), wall ${((nowMs() - wall) / LIFECYCLES).toFixed(0)} ms; store calls per lifecycle ${total.toFixed(1)}: ${JSON.stringify(per)}`);
      result.cpu_ms_per_lifecycle_process = Number(((used.user + used.system) / 1000 / LIFECYCLES).toFixed(1));
      result.store_calls_per_lifecycle = Number(total.toFixed(1));
      result.store_calls = per;
    }
  } finally {
    await bare.stop();
    await s.stop();
  }
  out(JSON.stringify(result));
}

main().catch((err: unknown) => {
  process.stderr.write(`ack-profile: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
