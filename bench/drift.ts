/**
 * (vii) One drift sweep over N bot rules (10,000; --quick 1,000), every one held by a grant: the
 * bot's CPU for the sweep (after a first, warm-up sweep; this process only: the store and EC2 stand-ins run in a child
 * process, whose CPU is reported beside it), its wall time, and the store read calls it made.
 * Runs alone too: `node dist/bench/drift.js [rules]`.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pino from 'pino';
import { Ec2SshProvider } from '../src/aws/ec2-ssh';
import { ec2Client } from '../src/aws/ec2-rule-listing';
import { withoutSdkLogging } from '../src/aws/instrument';
import { parseConfig } from '../src/config';
import { AccessService } from '../src/service';
import { DynamoRequestStore } from '../src/store/dynamo';
import { DRIFT_SG, DRIFT_TABLE } from './drift-standins';

export interface DriftFigures {
  rules: number;
  /** CPU of this process (user + system) during the sweep. */
  cpuMs: number;
  /** CPU of the stand-ins' process (dynalite, simulated EC2) during the sweep. */
  standInCpuMs: number;
  wallMs: number;
  /** DynamoDB read calls (GetItem, BatchGetItem, Query) the sweep made. */
  readCalls: number;
  removed: number;
}

export async function driftSweepBench(rules: number): Promise<DriftFigures> {
  const child = fork(join(__dirname, 'drift-standins.js'), [String(rules)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T>(type: string, msg?: object) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        resolve(m as T);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`drift stand-ins exited (${code})`)));
      if (msg) child.send(msg);
    });
  const { endpoint, ec2Url } = await ask<{ endpoint: string; ec2Url: string }>('ready');
  // Built as the bot builds its clients (src/main.ts): without the SDK's logging middleware.
  const client = withoutSdkLogging(new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } }));
  let readCalls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand'].includes(context.commandName ?? '')) readCalls++;
      return next(args);
    },
    { step: 'initialize', name: 'countReads' },
  );
  const ec2 = withoutSdkLogging(ec2Client({ region: 'eu-west-1', endpoint: ec2Url, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } }));
  try {
    const store = new DynamoRequestStore(client, DRIFT_TABLE);
    const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
targets:
  - { name: drift-bench, kind: ec2-ssh, securityGroupId: ${DRIFT_SG}, region: eu-west-1 }
`);
    const provider = new Ec2SshProvider(() => ec2, { defaultRegion: 'eu-west-1', registry: store });
    const svc = new AccessService({ config, store, providers: { 'ec2-ssh': provider }, clock: { now: () => new Date() }, log: pino({ level: 'silent' }), owner: 'bench' });
    // A running bot has swept before (every few minutes): the first sweep pays for loading and
    // compiling the clients' code; the one measured is the next.
    await svc.driftSweep();
    readCalls = 0;
    const standIn0 = (await ask<{ cpuMs: number }>('cpu', { type: 'cpu' })).cpuMs;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await svc.driftSweep();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const standIn1 = (await ask<{ cpuMs: number }>('cpu', { type: 'cpu' })).cpuMs;
    return { rules, cpuMs: (cpu.user + cpu.system) / 1000, standInCpuMs: standIn1 - standIn0, wallMs, readCalls, removed: report.removed.length };
  } finally {
    client.destroy();
    ec2.destroy();
    child.send({ type: 'stop' });
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

if (require.main === module) {
  driftSweepBench(Number(process.argv[2] ?? 10_000)).then(
    (f) => process.stdout.write(`${JSON.stringify(f)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
