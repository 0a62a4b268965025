/**
 * The drift bench's stand-ins, in their own process (forked by bench/drift.ts) so that the bench
 * process's CPU is the bot's alone: embedded dynalite (in memory) holding `rules` rule holders, and
 * the simulated EC2 with `rules` tagged rules on one group. Answers over IPC: { ready } once
 * seeded, then { cpuMs } (its own CPU since ready) when asked.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ruleDescription, ruleKey } from '../src/aws/ec2-ssh';
import { seedRuleTags } from './seed';
import { DynamoRequestStore, ensureTable } from '../src/store/dynamo';
import { startEmbeddedDynamo } from '../src/store/embedded';
import { startFakeEc2 } from '../testkit/fake-ec2';

export const DRIFT_SG = 'sg-0be0c0000000000d1';
export const DRIFT_TABLE = 'drift-bench';

async function main(): Promise<void> {
  const rules = Number(process.argv[2]);
  const db = await startEmbeddedDynamo(undefined);
  const client = new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  await ensureTable(client, DRIFT_TABLE);
  const store = new DynamoRequestStore(client, DRIFT_TABLE);
  const ec2 = await startFakeEc2({ pageSize: 1_000 });
  const keys: string[] = [];
  const expiresAt = new Date(Date.now() + 4 * 3600_000);
  for (let n = 0; n < rules; n++) {
    const requestId = `jit-${String(n).padStart(10, '0')}`;
    // As the bot makes them: its description and its four tags (what EC2 sends back, and the SDK parses, per rule).
    const requesterId = `U0DRIFT${String(n % 1000).padStart(4, '0')}`;
    const description = ruleDescription({ id: requestId, requesterId }, expiresAt);
    const rule = ec2.seedRule({ groupId: DRIFT_SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}/32`, description, tags: seedRuleTags(requestId, requesterId, expiresAt) });
    keys.push(ruleKey({ region: 'eu-west-1', securityGroupRuleId: rule.securityGroupRuleId }));
  }
  // Every rule is held by its grant: a sweep that removes nothing, as on a healthy day.
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < keys.length) await store.join(keys[next++]!, `jit-${String(next).padStart(10, '0')}`);
  }));
  const cpu0 = process.cpuUsage();
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'cpu') {
      const d = process.cpuUsage(cpu0);
      process.send!({ type: 'cpu', cpuMs: (d.user + d.system) / 1000 });
    } else if (msg.type === 'stop') {
      client.destroy();
      void Promise.allSettled([db.close(), ec2.close()]).then(() => process.exit(0));
    }
  });
  process.send!({ type: 'ready', endpoint: db.endpoint, ec2Url: ec2.url });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`drift stand-ins: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
