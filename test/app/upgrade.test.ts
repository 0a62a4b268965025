/**
 * The upgrade from the dynalite embedded store to SQLite, through the real bot: a live grant made
 * by a bot of the previous version (dynalite on JIT_DATA_DIR, table jit-access-requests, which is
 * what its embedded store was) is migrated at this version's first start and revoked at its
 * expiry. Revocation is the invariant an upgrade must keep.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTION_APPROVE } from '../../blocks/ids';
import { ensureTable } from '../../src/store/dynamo';
import { startEmbeddedDynamo } from '../../src/store/embedded';
import { LEGACY_TABLE } from '../../src/store/migrate-dynalite';
import { FakeClock } from '../support/clock';
import { APPROVER, Harness } from '../support/harness';
import { waitFor } from '../../testkit/wait';

const ec2 = mockClient(EC2Client);
const RULE = 'sgr-0aaa1111bbbb2222c';
const saved = { ...process.env };
let dir: string;
let h: Harness | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jit-upgrade-'));
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: RULE, GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});
afterEach(async () => {
  await h?.stop();
  h = undefined;
  process.env = { ...saved };
  rmSync(dir, { recursive: true, force: true });
});

it('a grant made on the dynalite store is migrated at the first start on SQLite and revoked at its expiry', async () => {
  const clock = new FakeClock();
  // The previous version: its embedded store was dynalite on the data directory.
  const old = await startEmbeddedDynamo(dir);
  const admin = new DynamoDBClient({ endpoint: old.endpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  let id: string;
  try {
    await ensureTable(admin, LEGACY_TABLE);
    Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: old.endpoint, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
    h = await Harness.start({ dynamoTable: LEGACY_TABLE, clock });
    id = await h.request();
    await h.click(APPROVER, ACTION_APPROVE, id);
    expect(await h.bot.service.get(id)).toMatchObject({ status: 'ACTIVE', grant: { securityGroupRuleId: RULE } });
    await h.stop();
    h = undefined;
  } finally {
    admin.destroy();
    await old.close();
  }
  process.env = { ...saved };
  expect(existsSync(join(dir, 'CURRENT'))).toBe(true);

  // The upgrade, two hours later (well past the 30-minute grant's expiry).
  clock.advance(2 * 60 * 60_000);
  ec2.resetHistory();
  h = await Harness.start({ dataDir: dir, clock, background: true });
  const migrated = h.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'store.migrated');
  expect(migrated).toMatchObject({ requests: 1, byStatus: { ACTIVE: 1 }, rules: 1, backup: expect.stringMatching(/dynalite-.*\.bak$/) });
  expect(h.logLines.some((l) => l.includes('using the embedded store (SQLite)'))).toBe(true);
  await waitFor(async () => (await h!.bot.service.get(id))?.status === 'REVOKED', { message: 'the migrated grant was not revoked' });
  expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { SecurityGroupRuleIds: [RULE] });
  expect((await h.bot.service.get(id))!.audit.map((a) => a.action)).toEqual(['request', 'approve', 'grant', 'expire', 'revoked']);
  expect(readdirSync(dir).filter((f) => !f.endsWith('.bak')).sort()).toEqual(expect.arrayContaining(['jit.sqlite']));
  expect(existsSync(join(dir, 'CURRENT'))).toBe(false);
});
