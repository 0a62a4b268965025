/**
 * `npm run doctor` as operators run it: the compiled CLI in a child process, reading the
 * environment and .env, against the Slack stand-in, the simulated EC2 endpoint and a minimal STS
 * endpoint. Exit codes 0 (all passed), 1 (some check failed), 2 (the configuration is invalid).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmbeddedStore, openEmbeddedStore } from '../../src/store/local';
import { startFakeEc2, type FakeEc2 } from '../../testkit/fake-ec2';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';

const REPO = join(__dirname, '..', '..');
const CHANNEL = 'C0APPROVERS';
const SG = 'sg-0123456789abcdef0';
const CONFIG = `
approverChannel: ${CHANNEL}
approvers: { users: [U0APPROVER1, U0APPROVER2] }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: ${SG}, port: 22, region: eu-west-1 }
`;

let dir: string;
let cli: string;
let slack: SlackStandIn;
let ec2: FakeEc2;
let sts: Server;
let stsUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-doctor-cli-'));
  const outDir = join(dir, 'dist');
  await new Promise<void>((ok, fail) => {
    execFile('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: REPO, timeout: 120_000 }, (err, stdout, stderr) => (err ? fail(new Error(`${err.message}\n${stdout}\n${stderr}`)) : ok()));
  });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  cli = join(outDir, 'src', 'cli', 'doctor.js');
  slack = await startSlackStandIn();
  ec2 = await startFakeEc2();
  // STS speaks the query protocol; GetCallerIdentity is all the doctor asks of it here.
  sts = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += String(c)));
    req.on('end', () => {
      const ok = new URLSearchParams(body).get('Action') === 'GetCallerIdentity';
      res.writeHead(ok ? 200 : 400, { 'content-type': 'text/xml' });
      res.end(
        ok
          ? '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/doctor</Arn><UserId>AIDADOCTOR</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>'
          : '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>no</Message></Error><RequestId>r2</RequestId></ErrorResponse>',
      );
    });
  });
  await new Promise<void>((r) => sts.listen(0, '127.0.0.1', () => r()));
  stsUrl = `http://127.0.0.1:${(sts.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await slack?.close();
  await ec2?.close();
  await new Promise((r) => sts?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  slack.reset();
  slack.channels.set(CHANNEL, { name: 'jit-approvals', isMember: true });
});

/** A working directory with the policy file and a .env holding the signing secret (the CLI must read it). */
function workdir(name: string, config = CONFIG): string {
  const cwd = join(dir, name);
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'jit.config.yaml'), config);
  writeFileSync(join(cwd, '.env'), 'SLACK_SIGNING_SECRET=from-dot-env\n');
  return cwd;
}

function doctor(cwd: string, extraEnv: Record<string, string> = {}, credentials = true): Promise<{ code: number | null; out: string[]; err: string }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: cwd,
    AWS_CONFIG_FILE: join(cwd, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(cwd, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_EC2: ec2.url,
    AWS_ENDPOINT_URL_STS: stsUrl,
    AWS_MAX_ATTEMPTS: '1',
    SLACK_BOT_TOKEN: 'xoxb-doctor-test',
    SLACK_API_URL: slack.url,
    ...(credentials ? { AWS_ACCESS_KEY_ID: 'AKIADOCTOR', AWS_SECRET_ACCESS_KEY: 'secret' } : {}),
    ...extraEnv,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [cli], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: stdout.split('\n'), err: stderr });
    });
  });
}

it('exits 0 and prints ✓ for every check when everything works', async () => {
  const cwd = workdir('ok');
  const { code, out } = await doctor(cwd);
  expect(out.filter((l) => l.startsWith('✓') || l.startsWith('✗'))).toEqual([
    '✓ config valid: ./jit.config.yaml: 1 target, approver channel C0APPROVERS',
    '✓ Slack token: accepted: bot user jit-access-bot in workspace T1',
    '✓ Slack scopes: all 11 scopes granted',
    '✓ approver channel: #jit-approvals (C0APPROVERS): the bot is a member',
    '✓ Slack users in the policy: 2 users found: U0APPROVER1, U0APPROVER2',
    `✓ store: embedded store: ${join(cwd, 'data')} holds no store yet; the bot creates it at start`,
    '✓ AWS identity: arn:aws:iam::123456789012:user/doctor (account 123456789012)',
    `✓ target prod-bastion (ec2-ssh, eu-west-1): ${SG} (eu-west-1) exists; the bot may open and close tcp/22 on it`,
  ]);
  expect(out.filter(Boolean).at(-1)).toBe('doctor: 8 checks, all passed');
  expect(code).toBe(0);
  // The token went to the stand-in; the dry runs changed nothing.
  expect(slack.callsTo('auth.test')[0]?.token).toBe('xoxb-doctor-test');
  expect(ec2.rules()).toEqual([]);
}, 60_000);

it('exits 1 and prints ✗ with the fix for each failure; a data directory held by a running bot is reported as such', async () => {
  const cwd = workdir('failing');
  slack.scopes = slack.scopes.filter((s) => s !== 'chat:write');
  slack.channels.set(CHANNEL, { name: 'jit-approvals', isMember: false });
  slack.userStates.set('U0APPROVER2', 'deleted');
  ec2.deny(SG, 'RevokeSecurityGroupIngress');
  let running: EmbeddedStore | undefined;
  try {
    running = await openEmbeddedStore(join(cwd, 'data')); // what a running bot holds
    const { code, out } = await doctor(cwd);
    const text = out.join('\n');
    expect(text).toContain('✗ Slack scopes: missing chat:write (approval messages and DMs)\n    fix: add chat:write under OAuth & Permissions');
    expect(text).toContain('✗ approver channel: the bot is not a member of #jit-approvals (C0APPROVERS), so approval requests cannot be posted there\n    fix: invite the bot: in the channel, /invite @jit-access-bot');
    expect(text).toContain('✗ Slack users in the policy: U0APPROVER2 (u0approver2) is deactivated\n    fix: fix the user ids');
    expect(text).toContain(`✓ store: embedded store in ${join(cwd, 'data')} is open in a running bot (one process at a time), so it was not opened here`);
    expect(text).toContain(`✗ target prod-bastion (ec2-ssh, eu-west-1): the bot may not close rules on ${SG} (eu-west-1)\n    fix: allow ec2:RevokeSecurityGroupIngress on ${SG} to arn:aws:iam::123456789012:user/doctor`);
    expect(out.filter(Boolean).at(-1)).toBe('doctor: 8 checks, 4 failed');
    expect(code).toBe(1);
  } finally {
    running?.store.close();
  }
}, 60_000);

it('exits 1 without AWS credentials, saying so once', async () => {
  const { code, out } = await doctor(workdir('no-credentials'), {}, false);
  const text = out.join('\n');
  expect(text).toContain('✗ AWS identity: no AWS credentials found\n    fix: run with credentials for the bot');
  expect(text).toContain('✗ target prod-bastion (ec2-ssh, eu-west-1): not checked: the AWS identity check failed (see "AWS identity")');
  expect(out.filter(Boolean).at(-1)).toBe('doctor: 8 checks, 2 failed');
  expect(code).toBe(1);
}, 60_000);

it('exits 2 and prints the configuration error as the failed "config valid" check', async () => {
  const { code, out } = await doctor(workdir('bad-config', 'approvers: { users: [U0APPROVER1] }\ntargets: []\n'));
  expect(out[0]).toMatch(/^✗ config valid: .*jit\.config\.yaml/);
  const fix = out.findIndex((l) => l.startsWith('    fix: '));
  expect(out.slice(1, fix).join('\n')).toMatch(/^ {4}\S.*approverChannel/m);
  expect(out[fix]).toBe('    fix: fix the key named above (README → Configuration reference), then run npm run doctor again');
  expect(out.filter(Boolean).at(-1)).toBe('doctor: 1 check, 1 failed');
  expect(code).toBe(2);
  expect(slack.calls).toEqual([]);
}, 60_000);
