/**
 * The drift sweep's reads (issue 13 item 4): batched per page of rules, not one per rule; tag
 * values that are not request ids never reach a read; the sweep yields between pages.
 */
import { DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand, type SecurityGroupRule } from '@aws-sdk/client-ec2';
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { Ec2SshProvider, ruleKey } from '../../src/aws/ec2-ssh';
import { parseConfig } from '../../src/config';
import { AccessService } from '../../src/service';
import type { AccessProvider } from '../../src/ports';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { FakeClock } from '../support/clock';
import { pendingRequest } from '../support/requests';
import { useEmbeddedDynamo } from '../support/store';

const ec2 = mockClient(EC2Client);
const SG = 'sg-0123456789abcdef0';
const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: ${SG}, region: eu-west-1 }
`);
const dynamo = useEmbeddedDynamo();
let tables = 0;
let store: DynamoRequestStore;

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** The n-th request id (base32 in the id alphabet). */
const id = (n: number) => `jit-${Array.from({ length: 10 }, (_, i) => ALPHABET[Math.floor(n / 32 ** (9 - i)) % 32]).join('')}`;
const managed = (ruleId: string, requestId: string): SecurityGroupRule => ({
  SecurityGroupRuleId: ruleId,
  GroupId: SG,
  IsEgress: false,
  IpProtocol: 'tcp',
  FromPort: 22,
  ToPort: 22,
  CidrIpv4: '203.0.113.7/32',
  Tags: [
    { Key: 'jit:request-id', Value: requestId },
    { Key: 'jit:managed-by', Value: 'jit-access-bot' },
  ],
});

function service(): AccessService {
  const provider = new Ec2SshProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry: store });
  return new AccessService({ config, store, providers: { 'ec2-ssh': provider }, clock: new FakeClock(), log: pino({ level: 'silent' }), owner: 'a' });
}

/** The store's document client, to count (and, for the large case, answer) its calls. */
const docOf = (s: DynamoRequestStore) => (s as unknown as { doc: DynamoDBDocumentClient }).doc;

beforeEach(async () => {
  store = await dynamo.newStore(`drift-${++tables}`);
  ec2.reset();
});

it('10,000 bot rules: at most ~200 batched reads of at most 100 keys each, no single-item read, forged tags never read', async () => {
  const rules: SecurityGroupRule[] = [];
  const unheld = new Set<string>(); // rule ids nobody holds: their requests are looked up
  const live = new Set<string>(); // of those, the requests still being granted or revoked
  for (let n = 0; n < 10_000; n++) {
    const ruleId = `sgr-${String(n).padStart(8, '0')}`;
    const requestId = id(n + 1);
    if (n % 50 === 0) {
      unheld.add(ruleId);
      if (n % 100 === 0) live.add(requestId);
    }
    rules.push(managed(ruleId, n === 7 ? '<@U0ALICE>' : requestId));
  }
  unheld.add('sgr-00000007'); // its tag is forged: no holder, not a request id, removed without a read
  ec2.on(DescribeSecurityGroupRulesCommand).callsFake((input: { Filters?: Array<{ Name?: string }> }) =>
    input.Filters?.[0]?.Name === 'group-id' ? { SecurityGroupRules: rules } : { SecurityGroupRules: [] },
  );
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });

  const doc = docOf(store);
  const original = doc.send.bind(doc);
  const batchKeys: string[][] = [];
  const send = jest.spyOn(doc, 'send').mockImplementation((async (command: unknown) => {
    if (!(command instanceof BatchGetCommand)) return original(command as never);
    const [table, ask] = Object.entries(command.input.RequestItems!)[0]!;
    const pks = ask.Keys!.map((k) => k.pk as string);
    batchKeys.push(pks);
    const items = pks.flatMap((pk): Record<string, unknown>[] => {
      if (pk.startsWith('RULE#')) return unheld.has(pk.split('#')[2]!) ? [] : [{ pk, holders: new Set(['jit-holder0001']) }];
      const requestId = pk.slice('REQ#'.length);
      return [{ ...pendingRequest({ id: requestId, status: live.has(requestId) ? 'GRANTING' : 'REVOKED' }), pk }];
    });
    return { Responses: { [table]: items } };
  }) as never);
  try {
    const report = await service().driftSweep();

    const reads = send.mock.calls.filter(([c]) => c instanceof BatchGetCommand || c instanceof GetCommand);
    expect(send.mock.calls.filter(([c]) => c instanceof GetCommand)).toHaveLength(0);
    expect(reads.length).toBeGreaterThanOrEqual(100); // one holders read per page of 100 rules …
    expect(reads.length).toBeLessThanOrEqual(200); // … and at most one requests read per page
    expect(Math.max(...batchKeys.map((k) => k.length))).toBeLessThanOrEqual(100);
    expect(batchKeys.flat().filter((pk) => !pk.startsWith('RULE#') && !/^REQ#jit-[0-9a-z]{10}$/.test(pk))).toEqual([]);
    // Behaviour as before: unheld rules whose request is not live are removed, the rest kept.
    expect(report.removed.map((r) => r.securityGroupRuleId).sort()).toEqual([...unheld].filter((r) => !live.has(rules.find((x) => x.SecurityGroupRuleId === r)!.Tags![0]!.Value!)).sort());
    expect(report.removed).toHaveLength(101);
    expect(report.failed).toEqual([]);
  } finally {
    send.mockRestore();
  }
});

it('the sweep yields to the event loop between pages of rules', async () => {
  const rules = Array.from({ length: 300 }, (_, n) => managed(`sgr-${n}`, id(n + 1)));
  for (const rule of rules) await store.join(ruleKey({ region: 'eu-west-1', securityGroupRuleId: rule.SecurityGroupRuleId! }), 'jit-holder0001');
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: rules });
  // The held index has not caught up (it lags): every page's holders are confirmed with a read.
  const heldRules = jest.spyOn(store, 'heldRules').mockResolvedValue(new Set());
  const holdersOf = jest.spyOn(store, 'holdersOf');
  const order: string[] = [];
  holdersOf.mockImplementation(async (keys) => {
    order.push('read');
    // Something else asks for a turn of the event loop while the sweep works.
    setImmediate(() => order.push('other work'));
    return new Map(keys.map((k) => [k, ['jit-holder0001']]));
  });
  try {
    const report = await service().driftSweep();
    expect(report.removed).toEqual([]);
    expect(order).toEqual(['read', 'other work', 'read', 'other work', 'read']);
  } finally {
    holdersOf.mockRestore();
    heldRules.mockRestore();
  }
});

describe('batched reads on the store (dynalite)', () => {
  it('holdersOf answers every key asked, [] when unknown; getMany the requests found', async () => {
    await store.join('eu-west-1#sgr-a', 'jit-0000000002');
    await store.join('eu-west-1#sgr-a', 'jit-0000000001');
    const keys = Array.from({ length: 250 }, (_, n) => `eu-west-1#sgr-${n}`).concat('eu-west-1#sgr-a');
    const holders = await store.holdersOf(keys);
    expect(holders.size).toBe(251);
    expect(holders.get('eu-west-1#sgr-a')).toEqual(['jit-0000000001', 'jit-0000000002']);
    expect(holders.get('eu-west-1#sgr-3')).toEqual([]);

    const a = pendingRequest({ id: 'jit-000000000a' });
    await store.create(a);
    const found = await store.getMany(['jit-000000000a', 'jit-000000000b', 'jit-000000000a']);
    expect([...found.keys()]).toEqual(['jit-000000000a']);
    expect(found.get('jit-000000000a')).toEqual(a);
  });

  it('keys DynamoDB leaves unprocessed are asked again', async () => {
    await store.join('eu-west-1#sgr-x', 'jit-0000000003');
    const doc = docOf(store);
    const original = doc.send.bind(doc);
    let first = true;
    const send = jest.spyOn(doc, 'send').mockImplementation((async (command: BatchGetCommand) => {
      if (!first) return original(command as never);
      first = false;
      const [table, ask] = Object.entries(command.input.RequestItems!)[0]!;
      return { Responses: { [table]: [] }, UnprocessedKeys: { [table]: ask } };
    }) as never);
    try {
      expect((await store.holdersOf(['eu-west-1#sgr-x'])).get('eu-west-1#sgr-x')).toEqual(['jit-0000000003']);
      expect(send).toHaveBeenCalledTimes(2);
    } finally {
      send.mockRestore();
    }
  });
});

it('a kind whose resources are not rules asks which holders have ended (a final status, read in one batch) and its lines join the report', async () => {
  const [failed, revoked, active, granting] = [id(901), id(902), id(903), id(904)];
  await store.create(pendingRequest({ id: failed, status: 'FAILED' }));
  await store.create(pendingRequest({ id: revoked, status: 'REVOKED' }));
  await store.create(pendingRequest({ id: active, status: 'ACTIVE' }));
  await store.create(pendingRequest({ id: granting, status: 'GRANTING' }));
  let asked: Set<string> | undefined;
  const assignments: AccessProvider = {
    kind: 'sso-permission-set',
    grant: async () => { throw new Error('not in this test'); },
    revoke: async () => ({ removed: false, verified: true }),
    sweepDrift: async (_targets, ctx) => {
      asked = await ctx.endedOf!([failed, revoked, active, granting, id(905), '<@U0FORGED>']);
      return { removed: [], untagged: [], failed: [], cleaned: [...asked].map((x) => `took back what ${x} held`) };
    },
  };
  const s = new AccessService({ config, store, providers: { 'sso-permission-set': assignments }, clock: new FakeClock(), log: pino({ level: 'silent' }), owner: 'a' });
  const report = await s.driftSweep();
  // Ended: FAILED and REVOKED. Live ones, an unknown id and a forged value are not.
  expect(asked).toEqual(new Set([failed, revoked]));
  expect(report.cleaned.sort()).toEqual([`took back what ${failed} held`, `took back what ${revoked} held`].sort());
});
