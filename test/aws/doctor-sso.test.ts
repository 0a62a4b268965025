/**
 * The doctor's check of an sso-permission-set target, through a real SSOAdminClient against the
 * Identity Center stand-in: the permission set exists (with its session duration), and with
 * endSessions, its inline policy can take the bot's session denies and how much room is left.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { STSClient } from '@aws-sdk/client-sts';
import { AwsDoctor } from '../../src/aws/doctor';
import type { SsoPermissionSetTarget } from '../../src/domain/types';
import { startFakeSso, type FakeSso } from '../../testkit/fake-sso';
import { testPolicy } from '../support/requests';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-1111222233334444';
const PS = 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd';
const target: SsoPermissionSetTarget = { name: 'prod-admin', kind: 'sso-permission-set', instanceArn: INSTANCE, identityStoreId: 'd-1234567890', permissionSetArn: PS, accountIds: ['210987654321'], accountsPerRequest: 1, endSessions: false, minDurationMs: 60_000, maxDurationMs: 3_600_000, tags: {}, policy: testPolicy() };

let fake: FakeSso;
let admin: SSOAdminClient;
let doctor: AwsDoctor;

beforeEach(async () => {
  fake = await startFakeSso();
  admin = new SSOAdminClient({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  doctor = new AwsDoctor({ ec2For: () => new EC2Client({}), ssmFor: () => new SSMClient({}), stsFor: () => new STSClient({}), iam: new IAMClient({}), ssoAdminFor: () => admin, defaultRegion: 'eu-west-1' });
  fake.addPermissionSet({ instanceArn: INSTANCE, permissionSetArn: PS, name: 'AdministratorAccess', sessionDuration: 'PT2H' });
});

afterEach(async () => {
  admin.destroy();
  await fake.close();
});

it('names the permission set and its session duration', async () => {
  expect(await doctor.permissionSetCheck(target)).toEqual({ ok: true, detail: 'permission set AdministratorAccess (session duration PT2H) on account 210987654321' });
  expect(fake.calls.map((c) => c.operation)).toEqual(['DescribePermissionSet']);
});

it('fails naming the keys to check when the permission set is not in the instance', async () => {
  const outcome = await doctor.permissionSetCheck({ ...target, permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-0000000000000000' });
  expect(outcome).toMatchObject({ ok: false, fix: 'check permissionSetArn, instanceArn and region of target prod-admin' });
});

it('with endSessions: says how much of the role inline-policy limit the set already uses', async () => {
  fake.setInlinePolicy(PS, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'aws-portal:*', Resource: '*' }] }, null, 2));
  const outcome = await doctor.permissionSetCheck({ ...target, endSessions: true });
  expect(outcome).toEqual({ ok: true, detail: "permission set AdministratorAccess (session duration PT2H) on account 210987654321; endSessions: its inline policy uses 95 of IAM's 10,240 characters for a role" });
});

it('with endSessions: fails when the inline policy is not a document the bot would rewrite, or cannot be read', async () => {
  fake.setInlinePolicy(PS, '{"Statement": [');
  expect(await doctor.permissionSetCheck({ ...target, endSessions: true })).toMatchObject({ ok: false, detail: expect.stringContaining('not a JSON policy document'), fix: expect.stringContaining('endSessions: false') });
  fake.failNext('GetInlinePolicyForPermissionSet', 'AccessDeniedException');
  expect(await doctor.permissionSetCheck({ ...target, endSessions: true })).toMatchObject({ ok: false, fix: expect.stringContaining('sso:GetInlinePolicyForPermissionSet') });
});
