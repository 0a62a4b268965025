/**
 * The task role's IAM conditions (infra/lib/jit-bot-stack.ts) rely on names the bot's code uses:
 * the rule tags of a grant, the RoleSessionName that names SSM sessions, and the only items the
 * store deletes. infra/lib/bot-names.ts states them; these tests check the code really uses them,
 * so a rename on one side cannot silently break grants or widen the policy.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { DELETABLE_KEY_PATTERN, MANAGED_BY as INFRA_MANAGED_BY, RULE_TAG_KEYS, SESSION_ID_PATTERN } from '../../infra/lib/bot-names';
import { Ec2SshProvider, MANAGED_BY, ruleTagKeys } from '../../src/aws/ec2-ssh';
import { roleSessionName } from '../../src/aws/sts-session';
import type { RuleRegistry } from '../../src/ports';
import { ec2Target, pendingRequest } from '../support/requests';

const glob = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\#]/g, '\\$&')).join('.*')}$`);

it('a grant tags its rule with exactly the four keys the IAM conditions require, and the managed-by value they expect', async () => {
  const ec2 = mockClient(EC2Client);
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-new' }] });
  const registry: RuleRegistry = { join: async () => undefined, leave: async () => [], beginRevoke: async () => true, forget: async () => undefined, holders: async () => [] };
  const provider = new Ec2SshProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry });

  await provider.grant(pendingRequest({ id: 'jit-names1' }), ec2Target({}), new Date('2026-11-22T11:00:00.000Z'));

  const tags = ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]!.args[0].input.TagSpecifications![0]!.Tags!;
  expect(tags.map((t) => t.Key).sort()).toEqual(Object.values(RULE_TAG_KEYS).sort());
  expect(tags.find((t) => t.Key === RULE_TAG_KEYS.managedBy)?.Value).toBe(INFRA_MANAGED_BY);
  expect(ruleTagKeys()).toEqual(RULE_TAG_KEYS);
  expect(MANAGED_BY).toBe(INFRA_MANAGED_BY);
  ec2.restore();
});

it.each([
  ['U0ALICE', 'alice@example.com'],
  ['U0BOB', 'U0BOB'],
  ['U0CAROL', 'carol.jones+ops@example.com'],
  ['U0DAVE', `${'d'.repeat(80)}@example.com`],
])('SSM sessions started under the RoleSessionName of %s match the TerminateSession resource', (requesterId, sourceIdentity) => {
  const name = roleSessionName(requesterId, sourceIdentity, 'jit-7k3m9q2xab');
  // SSM names a session "<RoleSessionName>-<random>".
  expect(`${name}-0a1b2c3d4e5f67890`).toMatch(glob(SESSION_ID_PATTERN));
});

it('sessions a person starts under another name do not match', () => {
  for (const id of ['alice-0a1b2c3d4e5f67890', 'alice@example.com-0a1b2c3d4e5f67890', 'botocore-session-1700000000-0a1b2c3d']) expect(id).not.toMatch(glob(SESSION_ID_PATTERN));
});

it('the store deletes only items whose key matches the DeleteItem condition (dynamodb:LeadingKeys)', () => {
  const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : []));
  const deletes = files(join(__dirname, '../../src')).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/new (?:DeleteCommand|DeleteItemCommand|BatchWriteCommand|BatchWriteItemCommand|TransactWriteCommand)\(([^\n]*)/g)].map((m) => m[1]!));
  expect(deletes.length).toBeGreaterThan(0);
  for (const call of deletes) {
    const key = /pk: `([^`$]*)/.exec(call)?.[1];
    expect(`${key}x`).toMatch(glob(DELETABLE_KEY_PATTERN));
  }
});
