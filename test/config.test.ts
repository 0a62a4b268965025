import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, loadEnv, parseConfig } from '../src/config';

const valid = `
approverChannel: C0123ABCD
approvers:
  users: [U0APPROVER1, U0APPROVER2]
defaults:
  minDuration: 5m
  maxDuration: 4h
  approvalTimeout: 30m
targets:
  - name: prod-bastion
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    port: 22
    region: eu-west-1
    maxDuration: 1h30m
  - name: staging-db
    kind: ec2-ssh
    securityGroupId: sg-0fedcba9876543210
    port: 5432
`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('parses durations and applies defaults per target', () => {
    const c = parseConfig(valid);
    expect(c.defaults).toEqual({ minDurationMs: 300_000, maxDurationMs: 14_400_000, approvalTimeoutMs: 1_800_000, expiryWarningMs: 300_000 });
    expect(c.targets[0]).toMatchObject({ name: 'prod-bastion', port: 22, region: 'eu-west-1', minDurationMs: 300_000, maxDurationMs: 5_400_000 });
    expect(c.targets[1]).toMatchObject({ name: 'staging-db', port: 5432, maxDurationMs: 14_400_000 });
    expect(c.revocation).toEqual({ sweepIntervalSeconds: 5, driftIntervalMs: 300_000, leaseMs: 60_000 });
  });

  it('bounds the sweep and drift intervals', () => {
    expect(errorOf(() => parseConfig(`${valid}revocation: { sweepInterval: 2m }\n`))).toMatch(/revocation\.sweepInterval: must be between 1s and 60s/);
    expect(errorOf(() => parseConfig(`${valid}revocation: { driftInterval: 5s }\n`))).toMatch(/revocation\.driftInterval: must be at least 10s/);
    expect(errorOf(() => parseConfig(`${valid}revocation: { lease: 1s }\n`))).toMatch(/revocation\.lease: must be between 2s and 10m/);
    expect(parseConfig(`${valid}revocation: { sweepInterval: 2s, driftInterval: 1m, lease: 5s }\n`).revocation).toEqual({ sweepIntervalSeconds: 2, driftIntervalMs: 60_000, leaseMs: 5_000 });
  });

  it.each([
    ['approverChannel: general', 'approverChannel'],
    ['approvers: { users: [] }', 'approvers.users'],
    ['approvers: { users: [bob] }', 'approvers.users[0]'],
  ])('names the key when %s', (replacement, key) => {
    const key0 = replacement.split(':')[0]!;
    const text = valid.replace(new RegExp(`^${key0}:.*(\\n  users:.*)?$`, 'm'), replacement);
    expect(errorOf(() => parseConfig(text, 'jit.config.yaml'))).toContain(`${key}:`);
  });

  it('names the target key for a bad duration, security group and unknown kind', () => {
    expect(errorOf(() => parseConfig(valid.replace('maxDuration: 1h30m', 'maxDuration: soon')))).toMatch(/targets\[0\]\.maxDuration: "soon" is not a duration/);
    expect(errorOf(() => parseConfig(valid.replace('sg-0123456789abcdef0', 'default')))).toMatch(/targets\[0\]\.securityGroupId: must be a security group id/);
    expect(errorOf(() => parseConfig(valid.replace('kind: ec2-ssh', 'kind: rdp')))).toMatch(/targets\[0\]\.kind/);
    expect(errorOf(() => parseConfig(valid.replace('port: 22', 'port: 70000')))).toMatch(/targets\[0\]\.port/);
  });

  it('refuses unknown keys, duplicate names, inverted bounds and broken YAML', () => {
    expect(errorOf(() => parseConfig(`${valid}\ntypo: 1\n`))).toMatch(/typo|Unrecognized/);
    expect(errorOf(() => parseConfig(valid.replace('staging-db', 'prod-bastion')))).toMatch(/targets\[1\]\.name: "prod-bastion" is used by another target/);
    expect(errorOf(() => parseConfig(valid.replace('minDuration: 5m', 'minDuration: 5h')))).toMatch(/defaults\.minDuration: is longer than defaults\.maxDuration/);
    expect(errorOf(() => parseConfig('approverChannel: [unclosed'))).toMatch(/not valid YAML/);
  });

  it('says where the file should be when it is missing', () => {
    expect(errorOf(() => loadConfigFile('/nonexistent/jit.config.yaml'))).toMatch(/JIT_CONFIG: cannot read \/nonexistent\/jit.config.yaml \(ENOENT\)/);
  });
});

describe('loadEnv', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret' };

  it('defaults to HTTP mode on port 3000 with the embedded store', () => {
    expect(loadEnv(base)).toEqual({
      slackBotToken: 'xoxb-1',
      slack: { mode: 'http', signingSecret: 'secret', port: 3000 },
      slackApiUrl: undefined,
      configPath: './jit.config.yaml',
      dataDir: './data',
      dynamoTable: undefined,
      awsRegion: undefined,
      logLevel: 'info',
    });
  });

  it('reads fault-injection crash points only from JIT_TEST_CRASH_AT, and checks them', () => {
    expect(loadEnv(base).testCrashAt).toBeUndefined();
    expect(loadEnv({ ...base, JIT_TEST_CRASH_AT: 'after-grant-aws, after-revoke-aws' }).testCrashAt).toEqual(['after-grant-aws', 'after-revoke-aws']);
    expect(errorOf(() => loadEnv({ ...base, JIT_TEST_CRASH_AT: 'whenever' }))).toMatch(/JIT_TEST_CRASH_AT.*must list crash points among after-grant-intent/);
  });

  it('chooses Socket Mode when an app token is set', () => {
    expect(loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).slack).toEqual({ mode: 'socket', appToken: 'xapp-1' });
  });

  it.each([
    [{}, 'SLACK_BOT_TOKEN: is required'],
    [{ SLACK_BOT_TOKEN: 'xoxb-1' }, 'SLACK_SIGNING_SECRET: is required for HTTP mode'],
    [{ ...base, SLACK_BOT_TOKEN: 'xoxp-user' }, 'SLACK_BOT_TOKEN: must be a bot token'],
    [{ ...base, PORT: 'eighty' }, 'PORT: must be a port number'],
    [{ ...base, LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of'],
    [{ ...base, SLACK_API_URL: 'slack.local' }, 'SLACK_API_URL: must be an http(s) URL'],
  ])('fails naming the key for %j', (env, message) => {
    expect(errorOf(() => loadEnv(env as NodeJS.ProcessEnv))).toContain(message);
  });
});

describe('role-backed targets', () => {
  const base = `
approverChannel: C0123ABCD
approvers: { users: [U0APPROVER1] }
defaults: { minDuration: 5m, maxDuration: 4h }
targets:
`;
  const role = (extra = '') => `${base}  - { name: prod-readonly, kind: aws-role, roleArn: "arn:aws:iam::123456789012:role/ProdReadOnly"${extra} }\n`;

  it('parses an aws-role target, raising the minimum to the STS 15 minutes', () => {
    const [t] = parseConfig(role(', externalId: ext-123')).targets;
    expect(t).toMatchObject({ kind: 'aws-role', roleArn: 'arn:aws:iam::123456789012:role/ProdReadOnly', externalId: 'ext-123', minDurationMs: 900_000, maxDurationMs: 14_400_000 });
  });

  it('takes the session policy inline, as YAML, or from a file, minified', () => {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
    const inline = parseConfig(role(`, sessionPolicy: '${JSON.stringify(policy, null, 2).replace(/\n/g, ' ')}'`)).targets[0] as { sessionPolicy: string };
    expect(inline.sessionPolicy).toBe(JSON.stringify(policy));
    const yaml = parseConfig(`${base}  - name: r\n    kind: aws-role\n    roleArn: "arn:aws:iam::123456789012:role/R"\n    sessionPolicy:\n      Version: "2012-10-17"\n      Statement: [{ Effect: Allow, Action: "s3:GetObject", Resource: "*" }]\n`).targets[0] as { sessionPolicy: string };
    expect(JSON.parse(yaml.sessionPolicy)).toEqual(policy);
    const dir = mkdtempSync(join(tmpdir(), 'jit-policy-'));
    writeFileSync(join(dir, 'readonly.json'), JSON.stringify(policy, null, 2));
    writeFileSync(join(dir, 'jit.config.yaml'), role(', sessionPolicy: readonly.json'));
    expect((loadConfigFile(join(dir, 'jit.config.yaml')).targets[0] as { sessionPolicy: string }).sessionPolicy).toBe(JSON.stringify(policy));
  });

  it.each([
    [', roleArn2: x', /Unrecognized|roleArn2/],
    [', sessionPolicy: "{ not json"', /targets\[0\]\.sessionPolicy: the session policy is not valid JSON/],
    [`, sessionPolicy: '${JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'x'.repeat(2100) }] })}'`, /targets\[0\]\.sessionPolicy: the session policy is \d+ characters once minified; STS accepts at most 2048/],
    [', sessionPolicy: missing.json', /targets\[0\]\.sessionPolicy: cannot read .*missing\.json \(ENOENT\)/],
    [', minDuration: 5m', /targets\[0\]\.minDuration: aws-role targets cannot be shorter than 15m \(the STS minimum\)/],
    [', maxDuration: 13h', /targets\[0\]\.maxDuration: aws-role targets cannot be longer than 12h/],
  ])('refuses %s naming the key', (extra, message) => {
    expect(errorOf(() => parseConfig(role(extra)))).toMatch(message);
  });

  it('refuses a malformed role ARN', () => {
    expect(errorOf(() => parseConfig(`${base}  - { name: r, kind: aws-role, roleArn: "ProdReadOnly" }\n`))).toMatch(/targets\[0\]\.roleArn: must be an IAM role ARN/);
  });

  it('parses an ssm-session target by ids or tags, with the default shell document', () => {
    const [byIds, byTags] = parseConfig(
      `${base}  - { name: dev-nodes, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/SsmUser", instanceIds: [i-0123456789abcdef0] }\n  - { name: dev-fleet, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/SsmUser", tags: { ENV: dev } }\n`,
    ).targets;
    expect(byIds).toMatchObject({ kind: 'ssm-session', instanceIds: ['i-0123456789abcdef0'], tags: {}, documentName: 'SSM-SessionManagerRunShell', minDurationMs: 900_000 });
    expect(byTags).toMatchObject({ instanceIds: [], tags: { ENV: 'dev' } });
    expect(errorOf(() => parseConfig(`${base}  - { name: n, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/S" }\n`))).toMatch(/targets\[0\]\.instanceIds: needs instanceIds or tags/);
    expect(errorOf(() => parseConfig(`${base}  - { name: n, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/S", instanceIds: [web-1] }\n`))).toMatch(/targets\[0\]\.instanceIds\[0\]: must be an instance/);
  });
});

it('the example config in the repository is valid', () => {
  const c = loadConfigFile(join(__dirname, '..', 'jit.config.example.yaml'));
  expect(c.targets.map((t) => t.kind)).toEqual(['ec2-ssh', 'ec2-ssh', 'aws-role', 'ssm-session']);
});
