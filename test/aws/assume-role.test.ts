/**
 * Credentials in another account: one AssumeRole per role (with its external id) serves every
 * caller until shortly before it expires; concurrent callers share one call; a failure is not
 * remembered.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { AssumedRoles, REFRESH_BEFORE_MS, SESSION_NAME } from '../../src/aws/assume-role';
import { GrantError } from '../../src/domain/errors';
import { FakeClock } from '../support/clock';

const sts = mockClient(STSClient);
const ROLE = { roleArn: 'arn:aws:iam::210987654321:role/jit-access-bot-member', externalId: 'jit-7f3a' };
let clock: FakeClock;
let issued = 0;
/** STS's answer: fresh credentials for an hour. */
const issue = () => ({ Credentials: { AccessKeyId: `ASIA${++issued}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(clock.now().getTime() + 3_600_000) } });

beforeEach(() => {
  sts.reset();
  clock = new FakeClock();
  issued = 0;
  sts.on(AssumeRoleCommand).callsFake(issue);
});

it('assumes the role once, with its external id and the bot session name, for every caller until shortly before expiry', async () => {
  const roles = new AssumedRoles(new STSClient({ region: 'eu-west-1' }), clock);
  const first = await Promise.all([roles.credentials(ROLE), roles.credentials(ROLE), roles.provider(ROLE)()]);
  expect(first.map((c) => c.accessKeyId)).toEqual(['ASIA1', 'ASIA1', 'ASIA1']);
  expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleArn: ROLE.roleArn, RoleSessionName: SESSION_NAME, DurationSeconds: 3_600, ExternalId: 'jit-7f3a' }]);

  clock.advance(3_600_000 - REFRESH_BEFORE_MS - 1_000);
  expect((await roles.credentials(ROLE)).accessKeyId).toBe('ASIA1');
  clock.advance(2_000); // now inside the refresh window
  expect((await roles.credentials(ROLE)).accessKeyId).toBe('ASIA2');
  expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
});

it('keeps roles (and external ids) apart, and does not remember a failure', async () => {
  const roles = new AssumedRoles(new STSClient({ region: 'eu-west-1' }), clock);
  await roles.credentials(ROLE);
  await roles.credentials({ roleArn: ROLE.roleArn });
  expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);

  sts.on(AssumeRoleCommand, { RoleArn: 'arn:aws:iam::311111111111:role/denied' }).rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).callsFake(issue);
  const denied = { roleArn: 'arn:aws:iam::311111111111:role/denied' };
  const err = await roles.credentials(denied).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GrantError);
  expect(err).toMatchObject({ retryable: false, failureCode: 'aws-denied' });
  expect((err as Error).message).toContain("check the role's trust policy");
  // The next call asks STS again (and this time it answers).
  expect((await roles.credentials(denied)).accessKeyId).toBe('ASIA3');
});
