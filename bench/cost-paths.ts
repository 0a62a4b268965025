/**
 * DynamoDB reads and writes per lifecycle, measured: the real service, outbox and store on the
 * embedded dynalite, the real EC2 and STS providers over mocked AWS clients, and a meter on the
 * store's DynamoDB client (testkit/dynamo-meter.ts). `npm run cost` prints the table;
 * test/store/cost.test.ts pins the counts of calls.
 *
 * Each path starts from a fresh request and ends when the outbox has delivered everything the
 * path queued (claim + ack per message, and the approval message's ref), so what a lifecycle
 * costs includes its Slack bookkeeping. Timers are the scheduler's: processDue at the due time.
 * Delivery starts when a step has returned (one pass per request changed), so the counts are the
 * same on any machine.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { Ec2SshProvider } from '../src/aws/ec2-ssh';
import { StsRoleProvider } from '../src/aws/sts-role';
import { StsSessions } from '../src/aws/sts-session';
import { parseConfig } from '../src/config';
import type { AccessRequest } from '../src/domain/types';
import { OutboxProcessor } from '../src/outbox';
import type { Clock, NotificationSender } from '../src/ports';
import { AccessService } from '../src/service';
import { DynamoRequestStore, ensureTable } from '../src/store/dynamo';
import { startEmbeddedDynamo } from '../src/store/embedded';
import { TABLE_SCHEMA } from '../src/store/schema';
import { type DynamoMeter, itemSize, labelled, meterDynamo, type Tally } from '../testkit/dynamo-meter';

export const COST_CONFIG = `
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
rateLimits: { requests: { max: 100, per: 1m } }
defaults: { approvalTimeout: 30m, expiryWarning: 5m }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, region: us-east-1 }
  - name: prod-readonly
    kind: aws-role
    roleArn: "arn:aws:iam::123456789012:role/ProdReadOnly"
    maxDuration: 4h
`;
const ROLE_ARN = 'arn:aws:iam::123456789012:role/ProdReadOnly';
const REQUESTER = 'U0REQUESTER';
const APPROVER = 'U0APPROVER';
const MIN = 60_000;

export interface PathCost {
  /** Short name, e.g. "request". */
  path: string;
  /** What the path does. */
  what: string;
  tally: Tally;
  /** The notifications it delivered (kinds, in order): each costs a claim and an ack. */
  messages: string[];
  /** The items the path leaves stored once resolved: size (bytes, as DynamoDB counts them) and how many indexes hold each. */
  stored: Array<{ bytes: number; indexes: number }>;
}

export interface CostReport {
  steps: PathCost[];
  paths: PathCost[];
  /** Background reads with nothing to do: one of each, and how often the bot makes it. */
  idle: Array<{ path: string; what: string; everyS: number; tally: Tally }>;
}

class ManualClock implements Clock {
  private t = Date.parse('2026-11-22T10:00:00.000Z');
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Kinds of the notifications delivered, in order. */
let delivered: string[] = [];
/** Answers like the Slack notifier: a ref for the approval message, nothing else. */
const sender: NotificationSender = {
  async send(n) {
    delivered.push(n.kind);
    return n.kind === 'approval.post' ? { channel: 'C0APPROVERS', ts: '1700000000.000100' } : undefined;
  },
  async alert() {},
};

export async function measureCost(): Promise<CostReport> {
  const db = await startEmbeddedDynamo(undefined);
  const connect = () => new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const client = connect();
  const peek = connect();
  const table = 'jit-cost';
  await ensureTable(client, table);
  const meter: DynamoMeter = meterDynamo(client, peek, table);
  const store = labelled(new DynamoRequestStore(client, table));

  const ec2 = mockClient(EC2Client);
  const sts = mockClient(STSClient);
  const iam = mockClient(IAMClient);
  let rules = 0;
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).callsFake(() => ({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: `sgr-${String(++rules).padStart(17, '0')}` }] }));
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'ProdReadOnly', Arn: ROLE_ARN, RoleId: 'AROAEXAMPLEROLEID', MaxSessionDuration: 3600, Path: '/', CreateDate: new Date() } });
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
  let policy = '{}';
  iam.on(PutRolePolicyCommand).callsFake((input: { PolicyDocument: string }) => {
    policy = input.PolicyDocument;
    return {};
  });
  iam.on(GetRolePolicyCommand).callsFake((input: { RoleName: string; PolicyName: string }) => ({ RoleName: input.RoleName, PolicyName: input.PolicyName, PolicyDocument: encodeURIComponent(policy) }));
  sts.on(AssumeRoleCommand).callsFake((input: { RoleSessionName: string }) => ({
    Credentials: { AccessKeyId: 'ASIAEXAMPLE0000001', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) },
    AssumedRoleUser: { AssumedRoleId: `AROAEXAMPLEROLEID:${input.RoleSessionName}`, Arn: `arn:aws:sts::123456789012:assumed-role/ProdReadOnly/${input.RoleSessionName}` },
  }));

  const config = parseConfig(COST_CONFIG, 'cost config');
  const clock = new ManualClock();
  const log = pino({ level: 'silent' });
  const sessions = new StsSessions(() => new STSClient({ region: 'us-east-1' }), new IAMClient({ region: 'us-east-1' }), clock);
  const providers = {
    'ec2-ssh': new Ec2SshProvider(() => new EC2Client({ region: 'us-east-1' }), { defaultRegion: 'us-east-1', registry: store }),
    'aws-role': new StsRoleProvider(sessions, { defaultRegion: 'us-east-1' }),
  };
  // As src/main.ts builds them (the App Home is on there too).
  const service = new AccessService({ config, store, providers, clock, log, owner: 'cost', leaseMs: 60_000, random: () => 0.5, homeTab: true });
  const outbox = new OutboxProcessor({ store, sender, config, clock, log, owner: 'cost', claimMs: 15_000 });
  // The running bot (outbox.attach) starts a delivery pass at each change; here the passes start
  // when the step has returned, so the counts do not depend on which of the two is faster. A step
  // whose changes race a pass can cost, in the running bot, one more pass: a read and a write.
  // As outbox.attach does: the pass starts from the request as written (the last change's).
  const changed = new Map<string, AccessRequest>();
  service.onChange((r) => {
    if (Object.keys(r.outbox).length > 0) changed.set(r.id, r);
  });

  /** Runs `step` and everything it queued in the outbox; returns what that cost. */
  const measure = async (step: () => Promise<unknown>): Promise<Measured> => {
    await outbox.idle();
    meter.reset();
    delivered = [];
    await step();
    for (const [id, written] of changed) outbox.kick(id, written);
    changed.clear();
    await outbox.idle();
    return { ...meter.tally(), messages: delivered };
  };
  const submit = (targetName = 'prod-bastion', duration = '1h') => service.submit({ requesterId: REQUESTER, targetName, duration, ...(targetName === 'prod-bastion' ? { address: '203.0.113.7' } : {}), reason: 'INC-4711 debugging the login outage' });
  /**
   * processDue at the request's due time, as its timer (or the sweep) does. The due time is read
   * first, outside the measured step: that look is the measurement's, not the bot's.
   */
  const dueStep = async (id: string) => {
    const at = (await store.get(id))!.dueAt!;
    return () => {
      clock.advance(Math.max(0, at - clock.now().getTime()));
      return service.processDue(id);
    };
  };

  /** The stored sizes of requests, as left now. */
  const stored = async (...ids: string[]) => {
    const out: PathCost['stored'] = [];
    for (const id of ids) {
      const item = (await peek.send(new GetItemCommand({ TableName: table, Key: { [TABLE_SCHEMA.partitionKey]: { S: `REQ#${id}` } }, ConsistentRead: true }))).Item!;
      out.push({ bytes: itemSize(item), indexes: indexesOf(item) });
    }
    return out;
  };

  try {
    const steps: PathCost[] = [];
    const paths: PathCost[] = [];
    // ---- the full ec2-ssh lifecycle, step by step
    let r!: AccessRequest;
    steps.push(path('request', '/jit request: checks, PENDING stored, approvers asked', [await measure(async () => (r = await submit()))]));
    steps.push(path('approve + grant', 'Approve: APPROVED, claimed, rule added at EC2, ACTIVE', [await measure(() => service.approve(r.id, APPROVER))]));
    steps.push(path('expiry warning', 'timer: the warning DM with Extend', [await measure(await dueStep(r.id))]));
    steps.push(path('revoke at expiry', 'timer: REVOKING, rule removed and verified, REVOKED', [await measure(await dueStep(r.id))]));
    const done = (await store.get(r.id))!;
    if (done.status !== 'REVOKED' || !done.audit.some((e) => e.action === 'expire')) throw new Error(`the lifecycle ended ${done.status}, not REVOKED at expiry`);
    paths.push(path('lifecycle', 'request → approve → grant → warning → revoke', steps.map((s) => ({ ...s.tally, messages: s.messages })), await stored(r.id)));

    // ---- the other common paths, each from a fresh request
    let d!: AccessRequest;
    const deny = [await measure(async () => (d = await submit())), await measure(() => service.deny(d.id, APPROVER))];
    paths.push(path('deny', 'request → denied', deny, await stored(d.id)));
    let w!: AccessRequest;
    const withdraw = [await measure(async () => (w = await submit())), await measure(() => service.withdraw(w.id, REQUESTER))];
    paths.push(path('withdraw', 'request → withdrawn by the requester', withdraw, await stored(w.id)));
    let t!: AccessRequest;
    const timeout = [await measure(async () => (t = await submit())), await measure(await dueStep(t.id))];
    if ((await store.get(t.id))?.status !== 'EXPIRED') throw new Error('the approval timeout did not expire the request');
    paths.push(path('approval timeout', 'request → nobody decides within 30m → EXPIRED', timeout, await stored(t.id)));

    // Extension: on a live grant, 30 min more, approved; the original grant then ends by revoke.
    let g!: AccessRequest;
    await measure(async () => (g = await submit()));
    await measure(() => service.approve(g.id, APPROVER));
    let x!: AccessRequest;
    const extension = [await measure(async () => (x = await service.extend(g.id, REQUESTER, { duration: '30m', reason: 'INC-4711 still digging' }))), await measure(() => service.approve(x.id, APPROVER))];
    paths.push(path('extension', 'on a live grant: extend 30m → approved', extension, await stored(x.id)));
    await measure(() => service.revoke(g.id, REQUESTER));

    // aws-role: the credentials view on a live grant.
    let a!: AccessRequest;
    await measure(async () => (a = await submit('prod-readonly', '1h')));
    await measure(() => service.approve(a.id, APPROVER));
    paths.push(path('credentials (aws-role)', 'Show credentials on a live aws-role grant', [await measure(() => service.issueCredentials(a.id, REQUESTER))]));
    await measure(() => service.revoke(a.id, REQUESTER));

    // ---- idle: nothing due, nothing undelivered, no live rule
    clock.advance(24 * 60 * MIN);
    const idle: CostReport['idle'] = [
      { path: 'sweep', what: 'due requests (listDue)', everyS: config.revocation.sweepIntervalSeconds, tally: await measure(() => service.listDue(100)) },
      { path: 'outbox poll', what: 'undelivered notifications', everyS: 2, tally: await measure(() => outbox.drain()) },
      { path: 'drift sweep', what: 'bot rules against the registry', everyS: config.revocation.driftIntervalMs / 1000, tally: await measure(() => service.driftSweep()) },
      { path: 'metrics scrape', what: '/metrics backlog gauges, scraped once a minute', everyS: 60, tally: await measure(() => store.backlog(clock.now().getTime(), 1000)) },
    ];
    return { steps, paths, idle };
  } finally {
    await outbox.stop();
    ec2.restore();
    sts.restore();
    iam.restore();
    client.destroy();
    peek.destroy();
    await db.close();
  }
}

/** How many of the table's indexes hold this item. */
function indexesOf(item: Record<string, unknown>): number {
  return Object.values(TABLE_SCHEMA.indexes).filter((ix) => item[ix.partitionKey] !== undefined && item[ix.sortKey] !== undefined).length;
}

type Measured = Tally & { messages: string[] };

function path(name: string, what: string, parts: Measured[], stored: PathCost['stored'] = []): PathCost {
  return { path: name, what, tally: sum(parts), messages: parts.flatMap((p) => p.messages), stored };
}

export function sum(tallies: Tally[]): Tally {
  return {
    reads: tallies.reduce((s, t) => s + t.reads, 0),
    writes: tallies.reduce((s, t) => s + t.writes, 0),
    rru: tallies.reduce((s, t) => s + t.rru, 0),
    wru: tallies.reduce((s, t) => s + t.wru, 0),
    calls: tallies.flatMap((t) => t.calls),
  };
}
