import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadBotConfig, loadConfigFile, loadEnv, parseConfig } from '../src/config';

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
    expect(c.revocation).toEqual({ sweepIntervalSeconds: 5, driftIntervalMs: 300_000, leaseMs: 60_000, shutdownGraceMs: 10_000, concurrency: 128 });
  });

  it('bounds the sweep and drift intervals', () => {
    expect(errorOf(() => parseConfig(`${valid}revocation: { sweepInterval: 2m }\n`))).toMatch(/revocation\.sweepInterval: must be between 1s and 60s/);
    expect(errorOf(() => parseConfig(`${valid}revocation: { driftInterval: 5s }\n`))).toMatch(/revocation\.driftInterval: must be at least 10s/);
    expect(errorOf(() => parseConfig(`${valid}revocation: { lease: 1s }\n`))).toMatch(/revocation\.lease: must be between 2s and 10m/);
    expect(errorOf(() => parseConfig(`${valid}revocation: { shutdownGrace: 25s }\n`))).toMatch(/revocation\.shutdownGrace: must be at most 20s/);
    expect(parseConfig(`${valid}revocation: { sweepInterval: 2s, driftInterval: 1m, lease: 5s, shutdownGrace: 1s }\n`).revocation).toEqual({ sweepIntervalSeconds: 2, driftIntervalMs: 60_000, leaseMs: 5_000, shutdownGraceMs: 1_000, concurrency: 128 });
  });

  it('revocation.concurrency: its own lane, bounded, failing fast naming the key', () => {
    expect(parseConfig(`${valid}revocation: { concurrency: 64 }\n`).revocation.concurrency).toBe(64);
    expect(errorOf(() => parseConfig(`${valid}revocation: { concurrency: 0 }\n`))).toMatch(/revocation\.concurrency: must be between 1 and 1024/);
    expect(errorOf(() => parseConfig(`${valid}revocation: { concurrency: 2000 }\n`))).toMatch(/revocation\.concurrency: must be between 1 and 1024/);
    expect(errorOf(() => parseConfig(`${valid}revocation: { concurrency: 2.5 }\n`))).toMatch(/revocation\.concurrency/);
  });

  it('aws.ec2RateLimits: EC2 documented buckets by default, overridable per action, bounded', () => {
    const c = parseConfig(valid);
    expect(c.aws?.ec2RateLimits.RevokeSecurityGroupIngress).toEqual({ size: 200, refillPerSecond: 5 });
    expect(c.aws?.ec2RateLimits.DescribeSecurityGroupRules).toEqual({ size: 100, refillPerSecond: 20 });
    const raised = parseConfig(`${valid}aws:\n  ec2RateLimits:\n    RevokeSecurityGroupIngress: { refillPerSecond: 10 }\n`);
    expect(raised.aws?.ec2RateLimits.RevokeSecurityGroupIngress).toEqual({ size: 200, refillPerSecond: 10 });
    expect(errorOf(() => parseConfig(`${valid}aws:\n  ec2RateLimits:\n    RevokeSecurityGroupIngress: { size: 0 }\n`))).toMatch(/aws\.ec2RateLimits\.RevokeSecurityGroupIngress\.size: must be between 1 and 10000/);
    expect(errorOf(() => parseConfig(`${valid}aws:\n  ec2RateLimits:\n    DescribeSecurityGroupRules: { refillPerSecond: 0 }\n`))).toMatch(/aws\.ec2RateLimits\.DescribeSecurityGroupRules\.refillPerSecond: must be between 0\.1/);
    expect(errorOf(() => parseConfig(`${valid}aws:\n  ec2RateLimits:\n    RunInstances: { size: 5 }\n`))).toMatch(/aws\.ec2RateLimits/);
  });

  it.each([
    ['approverChannel: general', 'approverChannel'],
    ['approvers: { users: [] }', 'targets[0].approvers'],
    ['approvers: { users: [U0APPROVER1], groups: [team] }', 'approvers.groups[0]'],
    ['approvers: { users: [bob] }', 'approvers.users[0]'],
  ])('names the key when %s', (replacement, key) => {
    const key0 = replacement.split(':')[0]!;
    const text = valid.replace(new RegExp(`^${key0}:.*(\\n  users:.*)?$`, 'm'), replacement);
    expect(errorOf(() => parseConfig(text, 'jit.config.yaml'))).toContain(`${key}:`);
  });

  it('auditChannel is optional (absent: off) and validated like approverChannel', () => {
    expect(parseConfig(valid).auditChannel).toBeUndefined();
    expect(parseConfig(`${valid}auditChannel: C0AUDIT1\n`).auditChannel).toBe('C0AUDIT1');
    expect(errorOf(() => parseConfig(`${valid}auditChannel: '#audit'\n`, 'jit.config.yaml'))).toMatch(/auditChannel: must be a channel id/);
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
    expect(loadEnv({ ...base, JIT_TEST_CRASH_AT: 'after-message-sent:dm.granted,after-message-sent' }).testCrashAt).toEqual(['after-message-sent:dm.granted', 'after-message-sent']);
    expect(errorOf(() => loadEnv({ ...base, JIT_TEST_CRASH_AT: 'after-message-sent:dm.nonsense' }))).toMatch(/JIT_TEST_CRASH_AT.*after-message-sent:<notification kind>/);
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

  it('parses an ssm-session target by ids or node tags, with the default shell document', () => {
    const [byIds, byTags] = parseConfig(
      `${base}  - { name: dev-nodes, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/SsmUser", instanceIds: [i-0123456789abcdef0] }\n  - { name: dev-fleet, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/SsmUser", nodeTags: { ENV: dev }, tags: { ENV: dev, team: web } }\n`,
    ).targets;
    expect(byIds).toMatchObject({ kind: 'ssm-session', instanceIds: ['i-0123456789abcdef0'], nodeTags: {}, tags: {}, documentName: 'SSM-SessionManagerRunShell', minDurationMs: 900_000 });
    // nodeTags choose the nodes; tags are the target's labels for policy rules.
    expect(byTags).toMatchObject({ instanceIds: [], nodeTags: { ENV: 'dev' }, tags: { ENV: 'dev', team: 'web' } });
    expect(errorOf(() => parseConfig(`${base}  - { name: n, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/S" }\n`))).toMatch(/targets\[0\]\.instanceIds: needs instanceIds or nodeTags/);
    expect(errorOf(() => parseConfig(`${base}  - { name: n, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/S", instanceIds: [web-1] }\n`))).toMatch(/targets\[0\]\.instanceIds\[0\]: must be an instance/);
  });
});

describe('targets in another account', () => {
  const base = `
approverChannel: C0123ABCD
approvers: { users: [U0APPROVER1] }
targets:
`;
  const ec2 = (extra: string) => `${base}  - { name: member-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0${extra} }\n`;

  it('takes the role the bot assumes there, with its external id', () => {
    const [t] = parseConfig(ec2(', assumeRoleArn: "arn:aws:iam::210987654321:role/jit-access-bot-member", assumeRoleExternalId: jit-7f3a')).targets;
    expect(t).toMatchObject({ assumeRole: { roleArn: 'arn:aws:iam::210987654321:role/jit-access-bot-member', externalId: 'jit-7f3a' } });
    expect(parseConfig(ec2('')).targets[0]).not.toHaveProperty('assumeRole');
  });

  it('aws-role and ssm-session targets take them too', () => {
    const via = 'assumeRoleArn: "arn:aws:iam::210987654321:role/jit-access-bot-member", assumeRoleExternalId: jit-7f3a';
    const c = parseConfig(`${base}  - { name: member-ro, kind: aws-role, roleArn: "arn:aws:iam::210987654321:role/ReadOnly", ${via} }\n  - { name: member-shell, kind: ssm-session, roleArn: "arn:aws:iam::210987654321:role/SsmAccess", instanceIds: [i-0123456789abcdef0], ${via} }\n`);
    for (const t of c.targets) expect(t).toMatchObject({ assumeRole: { roleArn: 'arn:aws:iam::210987654321:role/jit-access-bot-member', externalId: 'jit-7f3a' } });
    expect(errorOf(() => parseConfig(`${base}  - { name: r, kind: aws-role, roleArn: "arn:aws:iam::210987654321:role/ReadOnly", assumeRoleExternalId: x1 }\n`))).toMatch(/targets\[0\]\.assumeRoleExternalId: is only used with assumeRoleArn/);
  });

  it('names the key of a bad role ARN, and of an external id without a role', () => {
    expect(errorOf(() => parseConfig(ec2(', assumeRoleArn: "member"')))).toMatch(/targets\[0\]\.assumeRoleArn: must be an IAM role ARN/);
    expect(errorOf(() => parseConfig(ec2(', assumeRoleExternalId: jit-7f3a')))).toMatch(/targets\[0\]\.assumeRoleExternalId: is only used with assumeRoleArn/);
  });
});

describe('sso-permission-set targets', () => {
  const base = `
approverChannel: C0123ABCD
approvers: { users: [U0APPROVER1] }
defaults: { minDuration: 5m, maxDuration: 4h }
targets:
`;
  const INSTANCE = 'arn:aws:sso:::instance/ssoins-1111222233334444';
  const PS = 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd';
  const sso = (fields: string) => `${base}  - { name: prod-admin, kind: sso-permission-set, ${fields} }\n`;
  const good = `instanceArn: "${INSTANCE}", identityStoreId: d-1234567890, permissionSetArn: "${PS}", accountId: "210987654321"`;

  it('parses one: instance, Identity Store, permission set, account and the portal, with the ordinary duration bounds', () => {
    const [t] = parseConfig(sso(`${good}, portalUrl: "https://d-1234567890.awsapps.com/start"`)).targets;
    expect(t).toMatchObject({ kind: 'sso-permission-set', instanceArn: INSTANCE, identityStoreId: 'd-1234567890', permissionSetArn: PS, accountIds: ['210987654321'], portalUrl: 'https://d-1234567890.awsapps.com/start', minDurationMs: 300_000 });
  });

  it('takes several accounts, granted together (duplicates once), or one; never both keys', () => {
    const several = good.replace('accountId: "210987654321"', 'accountIds: ["210987654321", "311111111111", "210987654321"]');
    expect(parseConfig(sso(several)).targets[0]).toMatchObject({ accountIds: ['210987654321', '311111111111'] });
    expect(errorOf(() => parseConfig(sso(`${good}, accountIds: ["311111111111"]`)))).toMatch(/targets\[0\]\.accountIds: name the account \(accountId\) or the accounts/);
    expect(errorOf(() => parseConfig(sso(good.replace('accountId: "210987654321"', 'accountIds: []'))))).toMatch(/targets\[0\]\.accountIds: must name at least one account/);
    expect(errorOf(() => parseConfig(sso(good.replace('accountId: "210987654321"', `accountIds: [${Array.from({ length: 51 }, (_, i) => `"${String(100000000000 + i)}"`).join(', ')}]`))))).toMatch(/targets\[0\]\.accountIds: at most 50 accounts per target/);
  });

  it('accountsPerRequest: how many accounts one request may pick (default all; never more than the target lists); only with accountIds', () => {
    const three = good.replace('accountId: "210987654321"', 'accountIds: ["210987654321", "311111111111", "422222222222"]');
    expect(parseConfig(sso(three)).targets[0]).toMatchObject({ accountsPerRequest: 3 });
    expect(parseConfig(sso(`${three}, accountsPerRequest: 1`)).targets[0]).toMatchObject({ accountsPerRequest: 1 });
    expect(parseConfig(sso(`${three}, accountsPerRequest: 9`)).targets[0]).toMatchObject({ accountsPerRequest: 3 });
    expect(parseConfig(sso(good)).targets[0]).toMatchObject({ accountsPerRequest: 1 });
    expect(errorOf(() => parseConfig(sso(`${three}, accountsPerRequest: 0`)))).toMatch(/targets\[0\]\.accountsPerRequest: must be at least 1/);
    expect(errorOf(() => parseConfig(sso(`${good}, accountsPerRequest: 1`)))).toMatch(/targets\[0\]\.accountsPerRequest: only a target with accountIds lets a request pick accounts/);
  });

  it('endSessions: off unless set; must be true or false', () => {
    expect(parseConfig(sso(good)).targets[0]).toMatchObject({ endSessions: false });
    expect(parseConfig(sso(`${good}, endSessions: true`)).targets[0]).toMatchObject({ endSessions: true });
    expect(errorOf(() => parseConfig(sso(`${good}, endSessions: sometimes`)))).toMatch(/targets\[0\]\.endSessions/);
  });

  it('names the key of each mistake', () => {
    expect(errorOf(() => parseConfig(sso(good.replace('210987654321', '2109'))))).toMatch(/targets\[0\]\.accountId: must be a 12-digit AWS account id/);
    expect(errorOf(() => parseConfig(sso(good.replace('d-1234567890', 'store-1'))))).toMatch(/targets\[0\]\.identityStoreId: must be the instance's Identity Store id/);
    expect(errorOf(() => parseConfig(sso(good.replace(PS, 'arn:aws:sso:::permissionSet/ssoins-9999888877776666/ps-aaaabbbbccccdddd'))))).toMatch(/targets\[0\]\.permissionSetArn: must be a permission set of instanceArn/);
    expect(errorOf(() => parseConfig(sso(`${good}, portalUrl: "http://portal"`)))).toMatch(/targets\[0\]\.portalUrl: must be an https URL/);
    expect(errorOf(() => parseConfig(sso(good.replace(`instanceArn: "${INSTANCE}", `, ''))))).toMatch(/targets\[0\]\.instanceArn/);
  });
});

it('the example config in the repository is valid', () => {
  const c = loadConfigFile(join(__dirname, '..', 'jit.config.example.yaml'));
  expect(c.targets.map((t) => t.kind)).toEqual(['ec2-ssh', 'ec2-ssh', 'aws-role', 'ssm-session']);
});

describe('approval policy', () => {
  const H = 3_600_000;
  const M = 60_000;
  const head = `
approverChannel: C0123ABCD
approvers: { users: [U0APPROVER1, U0APPROVER2], groups: [S0SRE] }
`;
  const ec2 = (name: string, extra = '') => `  - { name: ${name}, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0${extra} }\n`;
  const twoTargets = `targets:\n${ec2('prod-db', ', tags: { ENV: prod }')}${ec2('dev-box', ', tags: { ENV: dev }')}`;

  it('applies the built-in defaults to every target', () => {
    const c = parseConfig(`${head}${twoTargets}`);
    expect(c.targets[0]!.tags).toEqual({ ENV: 'prod' });
    expect(c.targets[0]!.policy).toEqual({
      approvers: { users: ['U0APPROVER1', 'U0APPROVER2'], groups: ['S0SRE'] },
      approvalsRequired: 1,
      approvalTimeoutMs: 30 * M,
      breakGlass: false,
      // Twice the target's maxDuration (4h by default).
      maxTotalDurationMs: 8 * H,
    });
    expect(c.targets[0]!.policy.requesters).toBeUndefined();
    expect(c.targets[0]!.policy.reminders).toBeUndefined();
    expect(c.denyRules).toEqual([]);
    expect(c.autoApprove).toEqual([]);
    expect(c.approvers).toEqual({ users: ['U0APPROVER1', 'U0APPROVER2'], groups: ['S0SRE'] });
  });

  it('a target with no tags has an empty tag map', () => {
    expect(parseConfig(`${head}targets:\n${ec2('a')}`).targets[0]!.tags).toEqual({});
  });

  it('targets inherit the top-level defaults and requesters, and override them key by key', () => {
    const c = parseConfig(`${head}requesters: { groups: [S0ENG] }
defaults:
  maxDuration: 2h
  approvalTimeout: 1h
  approvalsRequired: 2
  reminders: { every: 15m, dm: true }
  breakGlass: true
  maxTotalDuration: 6h
targets:
${ec2('inherits')}  - name: own
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    tags: { ENV: prod, team: payments }
    approvers: { users: [U0DBA] }
    approvalsRequired: 1
    requesters: { users: [U0ALICE], groups: [S0DBAS] }
    approvalTimeout: 20m
    reminders: { every: 5m }
    breakGlass: false
    maxDuration: 1h
    maxTotalDuration: 3h
`);
    const [inherits, own] = c.targets;
    expect(inherits!.policy).toEqual({
      approvers: { users: ['U0APPROVER1', 'U0APPROVER2'], groups: ['S0SRE'] },
      approvalsRequired: 2,
      requesters: { users: [], groups: ['S0ENG'] },
      approvalTimeoutMs: H,
      reminders: { everyMs: 15 * M, dm: true },
      breakGlass: true,
      maxTotalDurationMs: 6 * H,
    });
    expect(own!.tags).toEqual({ ENV: 'prod', team: 'payments' });
    expect(own!.policy).toEqual({
      approvers: { users: ['U0DBA'], groups: [] },
      approvalsRequired: 1,
      requesters: { users: ['U0ALICE'], groups: ['S0DBAS'] },
      approvalTimeoutMs: 20 * M,
      reminders: { everyMs: 5 * M, dm: false },
      breakGlass: false,
      maxTotalDurationMs: 3 * H,
    });
  });

  it('the default maxTotalDuration follows each target’s own maxDuration', () => {
    const c = parseConfig(`${head}targets:\n${ec2('short', ', maxDuration: 1h')}`);
    expect(c.targets[0]!.policy.maxTotalDurationMs).toBe(2 * H);
  });

  it('parses deny and auto-approve rules in file order, with window defaults', () => {
    const c = parseConfig(`${head}denyRules:
  - name: no-prod-weekends
    tags: { ENV: prod }
    window: { days: [sat, sun], from: "00:00", to: "24:00", timezone: Europe/London }
    message: Wait for Monday.
  - name: contractors
    requesters: { groups: [S0CONTRACT] }
  - name: night
    targets: [prod-*]
    window: { from: "22:00", to: "06:00" }
autoApprove:
  - { name: dev, tags: { ENV: dev }, maxDuration: 1h, requesters: { groups: [S0ENG] } }
  - { name: named, targets: [dev-box], maxDuration: 90m, requesters: { users: [U0ALICE] } }
${twoTargets}`);
    expect(c.denyRules).toEqual([
      { name: 'no-prod-weekends', tags: { ENV: 'prod' }, window: { days: ['sat', 'sun'], from: '00:00', to: '24:00', timezone: 'Europe/London' }, message: 'Wait for Monday.' },
      { name: 'contractors', requesters: { users: [], groups: ['S0CONTRACT'] } },
      { name: 'night', targets: ['prod-*'], window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '22:00', to: '06:00', timezone: 'UTC' } },
    ]);
    expect(c.autoApprove).toEqual([
      { name: 'dev', tags: { ENV: 'dev' }, maxDurationMs: H, requesters: { users: [], groups: ['S0ENG'] } },
      { name: 'named', targets: ['dev-box'], maxDurationMs: 90 * M, requesters: { users: ['U0ALICE'], groups: [] } },
    ]);
  });

  it('a target may name only groups as approvers, whatever the quorum', () => {
    const c = parseConfig(`approverChannel: C0123ABCD\ntargets:\n${ec2('a', ', approvers: { groups: [S0SRE] }, approvalsRequired: 3')}`);
    expect(c.targets[0]!.policy).toMatchObject({ approvers: { users: [], groups: ['S0SRE'] }, approvalsRequired: 3 });
  });

  it.each<[string, string, RegExp]>([
    ['a bad group id', `${head.replace('[S0SRE]', '[sre-team]')}${twoTargets}`, /approvers\.groups\[0\]: must be a Slack user group id such as S012ABCDEF/],
    ['a bad group id in a target’s requesters', `${head}targets:\n${ec2('a', ', requesters: { groups: [U0ALICE] } ')}`, /targets\[0\]\.requesters\.groups\[0\]: must be a Slack user group id/],
    ['an unknown key in principals', `${head}targets:\n${ec2('a', ', approvers: { user: [U0ALICE] } ')}`, /targets\[0\]\.approvers/],
    [
      'approvalsRequired above the named users, without groups (top-level approvers)',
      `approverChannel: C0123ABCD\napprovers: { users: [U0APPROVER1] }\ndefaults: { approvalsRequired: 2 }\ntargets:\n${ec2('a')}`,
      /approvers: 2 approvals are required for targets\[0\] but only 1 approver\(s\) are named/,
    ],
    ['approvalsRequired above the named users, without groups (the target’s approvers)', `${head}targets:\n${ec2('a', ', approvers: { users: [U0DBA, U0DBA] }, approvalsRequired: 2')}`, /targets\[0\]\.approvers: 2 approvals are required for targets\[0\] but only 1 approver\(s\) are named/],
    ['approvalsRequired out of range', `${head}targets:\n${ec2('a', ', approvalsRequired: 0')}`, /targets\[0\]\.approvalsRequired/],
    ['a target with no approvers anywhere', `approverChannel: C0123ABCD\ntargets:\n${ec2('a', ', approvers: { users: [U0DBA] }')}${ec2('b')}`, /targets\[1\]\.approvers: nobody can approve this target: set approvers \(users and\/or groups\) on it or at the top level/],
    ['reminders.every not shorter than the approval timeout', `${head}targets:\n${ec2('a', ', approvalTimeout: 30m, reminders: { every: 30m }')}`, /targets\[0\]\.reminders\.every: is not shorter than the approval timeout \(30m\), so no reminder would be sent/],
    ['reminders.every from the defaults', `${head}defaults: { approvalTimeout: 10m, reminders: { every: 15m } }\ntargets:\n${ec2('a')}`, /targets\[0\]\.reminders\.every: is not shorter than the approval timeout \(10m\)/],
    ['reminders more often than every minute', `${head}targets:\n${ec2('a', ', reminders: { every: 30s }')}`, /targets\[0\]\.reminders\.every: must be at least 1m/],
    ['an approval timeout under a minute', `${head}targets:\n${ec2('a', ', approvalTimeout: 30s')}`, /targets\[0\]\.approvalTimeout: must be at least 1m/],
    ['an unknown time zone', `${head}denyRules:\n  - { name: r, window: { from: "09:00", to: "17:00", timezone: Mars/Olympus } }\n${twoTargets}`, /denyRules\[0\]\.window\.timezone: must be an IANA time zone such as Europe\/London or UTC/],
    ['a bad time', `${head}denyRules:\n  - { name: r, window: { from: "25:00", to: "17:00" } }\n${twoTargets}`, /denyRules\[0\]\.window\.from: must be a 24-hour time such as 08:00 or 18:30/],
    ['a time without minutes', `${head}autoApprove:\n  - { name: r, targets: [dev-box], maxDuration: 1h, window: { from: "09:00", to: "5pm" } }\n${twoTargets}`, /autoApprove\[0\]\.window\.to: must be a 24-hour time/],
    ['a bad day', `${head}denyRules:\n  - { name: r, window: { days: [monday], from: "09:00", to: "17:00" } }\n${twoTargets}`, /denyRules\[0\]\.window\.days\[0\]: must list days among mon, tue/],
    ['a deny rule without a selector', `${head}denyRules:\n  - { name: everything, message: no }\n${twoTargets}`, /denyRules\[0\]\.targets: needs at least one of targets, tags, requesters or window/],
    ['an auto-approve rule without targets or tags', `${head}autoApprove:\n  - { name: everyone, maxDuration: 1h, requesters: { users: [U0ALICE] } }\n${twoTargets}`, /autoApprove\[0\]\.targets: needs targets or tags/],
    ['an auto-approve rule without maxDuration', `${head}autoApprove:\n  - { name: dev, tags: { ENV: dev } }\n${twoTargets}`, /autoApprove\[0\]\.maxDuration/],
    ['a rule target pattern that matches no target', `${head}autoApprove:\n  - { name: dev, targets: [dev-box, staging-*], maxDuration: 1h }\n${twoTargets}`, /autoApprove\[0\]\.targets: "staging-\*" matches no target/],
    ['a deny rule target that matches no target', `${head}denyRules:\n  - { name: r, targets: [prod-bd] }\n${twoTargets}`, /denyRules\[0\]\.targets: "prod-bd" matches no target/],
    ['duplicate rule names (deny and auto share one namespace)', `${head}denyRules:\n  - { name: dev, targets: [prod-db] }\nautoApprove:\n  - { name: dev, tags: { ENV: dev }, maxDuration: 1h }\n${twoTargets}`, /autoApprove\[0\]\.name: "dev" is used by another rule/],
    ['duplicate deny rule names', `${head}denyRules:\n  - { name: a, targets: [prod-db] }\n  - { name: a, tags: { ENV: dev } }\n${twoTargets}`, /denyRules\[1\]\.name: "a" is used by another rule/],
    ['a bad rule name', `${head}denyRules:\n  - { name: "no prod", targets: [prod-db] }\n${twoTargets}`, /denyRules\[0\]\.name: must be 1–63 letters/],
    ['maxTotalDuration shorter than maxDuration', `${head}targets:\n${ec2('a', ', maxDuration: 2h, maxTotalDuration: 1h')}`, /targets\[0\]\.maxTotalDuration: is shorter than the target's maxDuration \(2h\)/],
    ['a default maxTotalDuration shorter than a target’s maxDuration', `${head}defaults: { maxTotalDuration: 2h }\ntargets:\n${ec2('a', ', maxDuration: 3h')}`, /targets\[0\]\.maxTotalDuration: is shorter than the target's maxDuration \(3h\)/],
    [
      'an ssm-session target with the old node `tags` only',
      `${head}targets:\n  - { name: dev-fleet, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/SsmUser", tags: { ENV: dev } }\n`,
      /targets\[0\]\.instanceIds: needs instanceIds or nodeTags to say which nodes \(`tags` are the target's policy labels\)/,
    ],
    ['a tag value that is not text', `${head}targets:\n${ec2('a', ', tags: { ENV: [prod] }')}`, /targets\[0\]\.tags\.ENV/],
  ])('stops on %s, naming the key', (_name, text, message) => {
    expect(errorOf(() => parseConfig(text, 'jit.config.yaml'))).toMatch(message);
  });

  it('reports every policy problem at once', () => {
    const message = errorOf(() => parseConfig(`approverChannel: C0123ABCD\nautoApprove:\n  - { name: x, targets: [nope], maxDuration: 1h }\ntargets:\n${ec2('a', ', maxDuration: 2h, maxTotalDuration: 1h')}`, 'jit.config.yaml'));
    expect(message).toMatch(/^jit\.config\.yaml is invalid:/);
    expect(message).toContain('targets[0].approvers: nobody can approve');
    expect(message).toContain('targets[0].maxTotalDuration: is shorter');
    expect(message).toContain('autoApprove[0].targets: "nope" matches no target');
  });
});

describe('loadEnv: health and readiness keys', () => {
  const socket = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' };
  const http = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret' };

  it('HEALTH_PORT: Socket Mode only, default 8080, 0 allowed; checked', () => {
    expect(loadEnv(socket).healthPort).toBe(8080);
    expect(loadEnv({ ...socket, HEALTH_PORT: '0' }).healthPort).toBe(0);
    expect(loadEnv({ ...socket, HEALTH_PORT: '9100' }).healthPort).toBe(9100);
    expect(loadEnv({ ...http, HEALTH_PORT: '9100' }).healthPort).toBeUndefined(); // HTTP mode serves them on PORT
    expect(errorOf(() => loadEnv({ ...socket, HEALTH_PORT: '70000' }))).toContain('HEALTH_PORT: must be a port number');
  });

  it('JIT_READY_OUTBOX_MAX: optional whole number ≥ 1', () => {
    expect(loadEnv(http).readyOutboxMax).toBeUndefined();
    expect(loadEnv({ ...http, JIT_READY_OUTBOX_MAX: '25' }).readyOutboxMax).toBe(25);
    expect(errorOf(() => loadEnv({ ...http, JIT_READY_OUTBOX_MAX: '0' }))).toContain('JIT_READY_OUTBOX_MAX: must be a whole number');
  });

  it('JIT_AFTER_ACK_LANE: optional whole number of slots ≥ 1; unset leaves the default (AFTER_ACK_SLOTS) to the composition root', () => {
    expect(loadEnv(http).afterAckLane).toBeUndefined();
    expect(loadEnv({ ...http, JIT_AFTER_ACK_LANE: '8' }).afterAckLane).toBe(8);
    expect(errorOf(() => loadEnv({ ...http, JIT_AFTER_ACK_LANE: '0' }))).toContain('JIT_AFTER_ACK_LANE: must be a whole number of slots');
  });
});

describe('JIT_CONFIG_YAML (the policy text in the environment, e.g. from an SSM parameter)', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret' };
  const fileWith = (text: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'jit-config-')), 'jit.config.yaml');
    writeFileSync(file, text);
    return file;
  };

  it('is read from the environment and is absent unless set', () => {
    expect(loadEnv(base).configYaml).toBeUndefined();
    expect(loadEnv({ ...base, JIT_CONFIG_YAML: '   ' }).configYaml).toBeUndefined();
    expect(loadEnv({ ...base, JIT_CONFIG_YAML: valid }).configYaml).toBe(valid.trim());
  });

  it('loads the policy from JIT_CONFIG_YAML, which wins over the JIT_CONFIG file', () => {
    const other = valid.replace('prod-bastion', 'prod-from-file');
    const env = loadEnv({ ...base, JIT_CONFIG: fileWith(other), JIT_CONFIG_YAML: valid });
    expect(loadBotConfig(env).targets.map((t) => t.name)).toEqual(['prod-bastion', 'staging-db']);
  });

  it('falls back to the JIT_CONFIG file when JIT_CONFIG_YAML is not set', () => {
    const file = fileWith(valid.replace('prod-bastion', 'prod-from-file'));
    expect(loadBotConfig(loadEnv({ ...base, JIT_CONFIG: file })).targets[0]!.name).toBe('prod-from-file');
  });

  it('names JIT_CONFIG_YAML as the source of a problem in it, and the file path for a file', () => {
    const bad = valid.replace('maxDuration: 1h30m', 'maxDuration: soon');
    const fromEnv = errorOf(() => loadBotConfig(loadEnv({ ...base, JIT_CONFIG_YAML: bad })));
    expect(fromEnv).toMatch(/^JIT_CONFIG_YAML is invalid:\n {2}- targets\[0\]\.maxDuration: "soon" is not a duration/);
    expect(errorOf(() => loadBotConfig(loadEnv({ ...base, JIT_CONFIG_YAML: 'approverChannel: [unclosed' })))).toMatch(/^JIT_CONFIG_YAML: not valid YAML/);
    const file = fileWith(bad);
    expect(errorOf(() => loadBotConfig(loadEnv({ ...base, JIT_CONFIG: file }))).split('\n')[0]).toBe(`${file} is invalid:`);
    expect(errorOf(() => loadBotConfig(loadEnv({ ...base, JIT_CONFIG: '/nonexistent/jit.config.yaml' })))).toMatch(/JIT_CONFIG: cannot read/);
  });
});

describe('SLACK_API_URL: https, or plain http only to this machine', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret' };
  it.each(['https://slack.com/api/', 'https://slack.internal.example.com/api/', 'http://127.0.0.1:4321/api/', 'http://127.8.9.10/', 'http://localhost:3000/api/', 'http://LOCALHOST/', 'http://[::1]:8080/api/'])('accepts %s', (url) => {
    expect(loadEnv({ ...base, SLACK_API_URL: url }).slackApiUrl).toBe(url);
  });
  it.each([
    ['http://slack.com/api/', 'must be https'],
    ['http://10.0.0.5/api/', 'must be https'],
    ['http://127.0.0.1.evil.example/api/', 'must be https'],
    ['http://localhost.evil.example/', 'must be https'],
    ['http://[::ffff:10.0.0.1]/', 'must be https'],
    ['http://0.0.0.0:3000/', 'must be https'],
    ['ftp://127.0.0.1/', 'must be an http(s) URL'],
    ['slack.local', 'must be an http(s) URL'],
  ])('refuses %s, naming the key', (url, message) => {
    let error: unknown;
    try {
      loadEnv({ ...base, SLACK_API_URL: url });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`SLACK_API_URL: ${message}`);
  });
});

describe('retention', () => {
  it('defaults to 400 days (13 months: a yearly audit window plus slack)', () => {
    expect(parseConfig(valid).retentionMs).toBe(400 * 86_400_000);
  });

  it('takes a duration', () => {
    expect(parseConfig(`${valid}retention: 730d\n`).retentionMs).toBe(730 * 86_400_000);
  });

  it.each([
    ['retention: 29d', /retention: must be between 30d and 3650d/],
    ['retention: 3651d', /retention: must be between 30d and 3650d/],
    ['retention: forever', /retention.*not a duration/],
  ])('refuses %s, naming the key', (line, message) => {
    expect(errorOf(() => parseConfig(`${valid}${line}\n`))).toMatch(message);
  });
});

describe('safe by default (issue 10): requesters, guests, rate limits', () => {
  const head = `
approverChannel: C0123ABCD
approvers: { users: [U0APPROVER1, U0APPROVER2] }
`;
  const ec2 = (name: string, extra = '') => `  - { name: ${name}, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0${extra} }\n`;

  it.each<[string, string, RegExp]>([
    ['break-glass without requesters', `${head}targets:\n${ec2('a', ', breakGlass: true')}`, /targets\[0\]\.requesters: required because breakGlass is true; name users\/groups \(here or at the top level\), or everyone: true/],
    ['break-glass from defaults without requesters', `${head}defaults: { breakGlass: true }\ntargets:\n${ec2('a')}${ec2('b', ', requesters: { users: [U0ALICE] }')}`, /targets\[0\]\.requesters: required because breakGlass is true \(defaults\.breakGlass\)/],
    ['an auto-approve rule by tag over a target without requesters', `${head}autoApprove:\n  - { name: dev, tags: { ENV: dev }, maxDuration: 1h }\ntargets:\n${ec2('a', ', tags: { ENV: prod }, requesters: { users: [U0ALICE] }')}${ec2('b', ', tags: { ENV: dev }')}`, /targets\[1\]\.requesters: required because autoApprove\[0\] \(dev\) can match it/],
    ['an auto-approve rule by name pattern', `${head}autoApprove:\n  - { name: all-dev, targets: [dev-*], maxDuration: 1h }\ntargets:\n${ec2('dev-a')}`, /targets\[0\]\.requesters: required because autoApprove\[0\] \(all-dev\) can match it; name users\/groups on the target, at the top level or on the rule, or everyone: true/],
    ['everyone as approvers', `approverChannel: C0123ABCD\napprovers: { everyone: true, users: [U0APPROVER1] }\ntargets:\n${ec2('a')}`, /approvers\.everyone: approvers must be named/],
    ['everyone as a target’s approvers', `${head}targets:\n${ec2('a', ', approvers: { everyone: true, users: [U0APPROVER1] }')}`, /targets\[0\]\.approvers\.everyone: approvers must be named/],
    ['a rate limit of 0', `${head}rateLimits: { requests: { max: 0, per: 1h } }\ntargets:\n${ec2('a')}`, /rateLimits\.requests\.max/],
    ['a rate-limit window under a minute', `${head}rateLimits: { breakGlass: { max: 1, per: 30s } }\ntargets:\n${ec2('a')}`, /rateLimits\.breakGlass\.per: must be between 1m and 30d/],
    ['an unknown rate-limit key', `${head}rateLimits: { extensions: { max: 1, per: 1h } }\ntargets:\n${ec2('a')}`, /rateLimits/],
    ['allowGuests not a boolean', `${head}allowGuests: sometimes\ntargets:\n${ec2('a')}`, /allowGuests/],
  ])('refuses %s, naming the key', (_name, yaml, error) => {
    expect(() => parseConfig(yaml)).toThrow(ConfigError);
    expect(() => parseConfig(yaml)).toThrow(error);
  });

  it.each<[string, string]>([
    ['requesters on the target', `${head}targets:\n${ec2('a', ', breakGlass: true, requesters: { groups: [S0ONCALL] }')}`],
    ['top-level requesters', `${head}requesters: { users: [U0ALICE] }\ntargets:\n${ec2('a', ', breakGlass: true')}`],
    ['everyone, explicitly', `${head}targets:\n${ec2('a', ', breakGlass: true, requesters: { everyone: true }')}`],
    ['requesters on the auto-approve rule', `${head}autoApprove:\n  - { name: dev, targets: [a], maxDuration: 1h, requesters: { groups: [S0DEVS] } }\ntargets:\n${ec2('a')}`],
    ['an auto-approve rule that matches no open target', `${head}autoApprove:\n  - { name: dev, tags: { ENV: dev }, maxDuration: 1h }\ntargets:\n${ec2('a', ', tags: { ENV: prod }')}`],
  ])('accepts instant access when someone is named: %s', (_name, yaml) => {
    expect(() => parseConfig(yaml)).not.toThrow();
  });

  it('everyone is kept as said, matches anyone, and defaults are safe', () => {
    const c = parseConfig(`${head}targets:\n${ec2('a', ', breakGlass: true, requesters: { everyone: true }')}`);
    expect(c.targets[0]!.policy.requesters).toEqual({ users: [], groups: [], everyone: true });
    expect(c.allowGuests).toBe(false);
    expect(c.rateLimits).toEqual({ requests: { max: 10, perMs: 3_600_000 }, breakGlass: { max: 2, perMs: 86_400_000 } });
  });

  it('reads allowGuests and rate limits (a limit left out keeps its default)', () => {
    const c = parseConfig(`${head}allowGuests: true\nrateLimits: { requests: { max: 20, per: 2h }, breakGlass: { per: 12h } }\ntargets:\n${ec2('a')}`);
    expect(c.allowGuests).toBe(true);
    expect(c.rateLimits).toEqual({ requests: { max: 20, perMs: 7_200_000 }, breakGlass: { max: 2, perMs: 43_200_000 } });
  });

  it('the example config is safe: every break-glass and auto-approved target names its requesters', () => {
    const c = loadConfigFile(join(__dirname, '..', 'jit.config.example.yaml'));
    for (const t of c.targets.filter((x) => x.policy.breakGlass)) expect(t.policy.requesters?.everyone).not.toBe(true);
    expect(c.targets.every((t) => t.policy.requesters !== undefined)).toBe(true);
  });
});

describe('reason requirements (reason: { pattern, message }, ticketUrl)', () => {
  const head = `
approverChannel: C0123ABCD
approvers: { users: [U0APPROVER1] }
`;
  const target = (name: string, extra = '') => `  - name: ${name}\n    kind: ec2-ssh\n    securityGroupId: sg-0123456789abcdef0\n${extra}`;
  const cfg = (defaults: string, ...targets: string[]) => `${head}${defaults}targets:\n${targets.join('')}`;

  it('compiles a target\'s rule once, with its ticketUrl', () => {
    const c = parseConfig(cfg('', target('prod', "    reason: { pattern: '^[A-Z]+-[0-9]+', message: Start with a ticket key such as OPS-123 }\n    ticketUrl: https://jira.example.com/browse/{key}\n"), target('dev')));
    const rule = c.targets[0]!.policy.reason!;
    expect(rule).toMatchObject({ pattern: '^[A-Z]+-[0-9]+', message: 'Start with a ticket key such as OPS-123', ticketUrl: 'https://jira.example.com/browse/{key}' });
    expect(rule.regex).toBeInstanceOf(RegExp);
    expect(rule.regex.source).toBe('^[A-Z]+-[0-9]+');
    expect(c.targets[1]!.policy.reason).toBeUndefined();
  });

  it('defaults apply to every target; a target may set its own, turn it off (reason: false) or only link it', () => {
    const c = parseConfig(
      cfg(
        "defaults:\n  reason: { pattern: '^CHG[0-9]+', message: Name the change }\n  ticketUrl: https://itsm.example.com/c/{key}\n",
        target('a'),
        target('b', "    reason: { pattern: '^INC[0-9]+', message: Name the incident }\n"),
        target('c', '    reason: false\n'),
        target('d', '    ticketUrl: https://other.example.com/{key}\n'),
      ),
    );
    const [a, b, cc, d] = c.targets.map((t) => t.policy.reason);
    expect(a).toMatchObject({ pattern: '^CHG[0-9]+', ticketUrl: 'https://itsm.example.com/c/{key}' });
    expect(b).toMatchObject({ pattern: '^INC[0-9]+', message: 'Name the incident', ticketUrl: 'https://itsm.example.com/c/{key}' });
    expect(cc).toBeUndefined();
    expect(d).toMatchObject({ pattern: '^CHG[0-9]+', ticketUrl: 'https://other.example.com/{key}' });
    // Compiled once: the targets that take the default share it.
    expect(d!.regex).toBe(a!.regex);
  });

  it.each([
    ["    reason: { pattern: '^[A-Z+', message: x }\n", /targets\[0\]\.reason\.pattern: is not a valid regular expression/],
    ["    reason: { pattern: '(a+)+$', message: x }\n", /targets\[0\]\.reason\.pattern: repeats a group .* exponential time/],
    [`    reason: { pattern: '${'a'.repeat(201)}', message: x }\n`, /targets\[0\]\.reason\.pattern: is longer than 200 characters/],
    ["    reason: { pattern: '^A' }\n", /targets\[0\]\.reason/],
    ["    reason: { pattern: '^A', message: x, flags: i }\n", /targets\[0\]\.reason/],
    ["    reason: { pattern: '^A', message: x }\n    ticketUrl: http://jira.example.com/{key}\n", /targets\[0\]\.ticketUrl: must be an https URL/],
    ["    reason: { pattern: '^A', message: x }\n    ticketUrl: https://jira.example.com/browse\n", /targets\[0\]\.ticketUrl: must contain \{key\}/],
    ['    ticketUrl: https://jira.example.com/{key}\n', /targets\[0\]\.ticketUrl: needs a reason pattern/],
    ['    reason: false\n    ticketUrl: https://jira.example.com/{key}\n', /targets\[0\]\.ticketUrl: needs a reason pattern, but targets\[0\]\.reason is false/],
  ])('fails fast naming the key: %s', (extra, expected) => {
    expect(errorOf(() => parseConfig(cfg('', target('prod', extra))))).toMatch(expected);
  });

  it('names defaults.reason.pattern for a bad default', () => {
    expect(errorOf(() => parseConfig(cfg("defaults:\n  reason: { pattern: '(\\w*)*', message: x }\n", target('a'))))).toMatch(/defaults\.reason\.pattern: repeats a group/);
  });
});
