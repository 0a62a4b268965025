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
