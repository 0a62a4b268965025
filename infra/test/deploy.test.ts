/**
 * The one-command deploy, checked offline on the synthesized cloud assembly: the image is built
 * from the repository's Dockerfile (an image asset staged without node_modules, .git or infra/),
 * the policy YAML reaches the container as JIT_CONFIG_YAML from an SSM parameter, the Slack tokens
 * from Secrets Manager, the health check probes /readyz on HEALTH_PORT, and the execution role may
 * read exactly what the container needs to start.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { botConfigFromContext } from '../lib/bot-config';
import { HEALTH_CHECK_COMMAND, HEALTH_PORT, JitBotStack, type JitBotStackProps, repositoryRoot, SLACK_SECRET_KEYS } from '../lib/jit-bot-stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const REPO = resolve(__dirname, '..', '..');
const CONFIG_YAML = 'approverChannel: C0APPROVERS\napprovers: { users: [U0APPROVER1] }\ntargets:\n  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }\n';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const outdirs: string[] = [];
afterAll(() => {
  for (const d of outdirs) rmSync(d, { recursive: true, force: true });
});

function synth(props: Partial<JitBotStackProps> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'jit-cdk-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: [`${REGION}a`, `${REGION}b`, `${REGION}c`] } });
  const stack = new JitBotStack(app, 'JitBotStack', { env: { account: ACCOUNT, region: REGION }, managedSecurityGroupIds: ['sg-0123456789abcdef0'], botConfig: { yaml: CONFIG_YAML }, ...props });
  const template = Template.fromStack(stack);
  return { app, stack, template, outdir };
}

type Container = {
  Image: unknown;
  Environment: Array<{ Name: string; Value: unknown }>;
  Secrets: Array<{ Name: string; ValueFrom: unknown }>;
  HealthCheck?: Record<string, unknown>;
};
const containerOf = (t: Template): Container => Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0]!.Properties.ContainerDefinitions[0];
const envOf = (t: Template) => Object.fromEntries(containerOf(t).Environment.map((e) => [e.Name, e.Value]));
const secretOf = (t: Template, name: string) => containerOf(t).Secrets.find((s) => s.Name === name)?.ValueFrom;

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
/** Statements of the IAM policies attached to the role with this logical id. */
function statementsOfRole(t: Template, roleId: string): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
/** The default stack (image asset, policy from a file), synthesized once for the whole file. */
let built: ReturnType<typeof synth>;
beforeAll(() => {
  built = synth();
});

const roleIdOf = (t: Template, key: 'ExecutionRoleArn' | 'TaskRoleArn'): string => Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0]!.Properties[key]['Fn::GetAtt'][0];

describe('the image, built from the repository', () => {
  let image: { source: { directory: string; dockerFile: string; platform?: string }; destinations: Record<string, { imageTag: string; repositoryName: string }> };
  let staged: string;
  let hash: string;

  beforeAll(() => {
    const manifest = JSON.parse(readFileSync(join(built.outdir, 'JitBotStack.assets.json'), 'utf8'));
    const images = Object.entries(manifest.dockerImages ?? {});
    expect(images).toHaveLength(1);
    [hash, image] = images[0] as [string, typeof image];
    staged = join(built.outdir, image.source.directory);
  });

  test('one docker image asset: the repository Dockerfile, built for linux/amd64 like the task', () => {
    expect(image.source.dockerFile).toBe('Dockerfile');
    expect(image.source.platform).toBe('linux/amd64');
    expect(readFileSync(join(staged, 'Dockerfile'), 'utf8')).toBe(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    expect(repositoryRoot()).toBe(REPO);
    const def = Object.values(built.template.findResources('AWS::ECS::TaskDefinition'))[0]!.Properties;
    expect(def.RuntimePlatform).toEqual({ CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' });
  });

  test('the container runs that image (pushed to the bootstrap repository, tagged with the asset hash)', () => {
    const dest = Object.values(image.destinations)[0]!;
    expect(dest.imageTag).toBe(hash);
    expect(JSON.stringify(containerOf(built.template).Image)).toContain(`${dest.repositoryName}:${hash}`);
  });

  test('the staged build context holds what the build stage copies, and none of node_modules, .git, infra, dist, data, tests or a local config', () => {
    for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/main.ts', 'handlers/index.ts', 'blocks/ids.ts', 'testkit/wait.ts', '.dockerignore']) {
      expect([path, existsSync(join(staged, path))]).toEqual([path, true]);
    }
    for (const path of ['node_modules', '.git', 'infra', 'dist', 'data', 'cdk.out', '.env', 'jit.config.yaml', 'test', 'test/config.test.ts', 'test/app', 'README.md']) {
      expect([path, existsSync(join(staged, path))]).toEqual([path, false]);
    }
  });

  test('a different config gives the same image (no rebuild), another task definition (rolling restart)', () => {
    const other = synth({ botConfig: { yaml: `${CONFIG_YAML}# edited\n` } });
    const manifest = JSON.parse(readFileSync(join(other.outdir, 'JitBotStack.assets.json'), 'utf8'));
    expect(Object.keys(manifest.dockerImages)).toEqual([hash]);
    expect(envOf(other.template).JIT_CONFIG_SHA256).toBe(sha256(`${CONFIG_YAML}# edited\n`));
    expect(envOf(other.template).JIT_CONFIG_SHA256).not.toBe(envOf(built.template).JIT_CONFIG_SHA256);
  });

  test('an existing ECR image instead: no asset to build', () => {
    const { outdir, template } = synth({ imageRepositoryName: 'jit-access-bot', imageTag: 'abc123' });
    const manifest = JSON.parse(readFileSync(join(outdir, 'JitBotStack.assets.json'), 'utf8'));
    expect(manifest.dockerImages ?? {}).toEqual({});
    expect(JSON.stringify(containerOf(template).Image)).toContain('/jit-access-bot:abc123');
  });
});

describe('configuration and secrets', () => {

  test('the policy YAML is stored in an SSM String parameter the stack creates (standard tier)', () => {
    built.template.resourceCountIs('AWS::SSM::Parameter', 1);
    built.template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Name: '/JitBotStack/config-yaml', Value: CONFIG_YAML, Tier: 'Standard' });
    built.template.hasOutput('ConfigParameterName', {});
  });

  test('the container gets it as the secret JIT_CONFIG_YAML, never as a plain value or a file path', () => {
    const paramId = built.stack.getLogicalId(built.stack.configParameter.node.defaultChild as CfnElement);
    // The parameter's ARN (its name starts with "/").
    expect(secretOf(built.template, 'JIT_CONFIG_YAML')).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:${REGION}:${ACCOUNT}:parameter`, { Ref: paramId }]] });
    const env = envOf(built.template);
    expect(env.JIT_CONFIG).toBeUndefined();
    expect(env.JIT_CONFIG_YAML).toBeUndefined();
    expect(JSON.stringify(containerOf(built.template).Environment)).not.toContain('approverChannel');
    expect(env.JIT_CONFIG_SHA256).toBe(sha256(CONFIG_YAML));
  });

  test('the Slack tokens come from the Secrets Manager secret, one JSON key each', () => {
    const secretId = built.stack.getLogicalId(built.stack.slackSecret.node.defaultChild as CfnElement);
    for (const key of SLACK_SECRET_KEYS) expect(secretOf(built.template, key)).toEqual({ 'Fn::Join': ['', [{ Ref: secretId }, `:${key}::`]] });
    expect(containerOf(built.template).Secrets.map((s) => s.Name).sort()).toEqual(['JIT_CONFIG_YAML', 'SLACK_APP_TOKEN', 'SLACK_BOT_TOKEN']);
  });

  test('the execution role may read the parameter and the secret; the task role may read neither', () => {
    const paramId = built.stack.getLogicalId(built.stack.configParameter.node.defaultChild as CfnElement);
    const secretId = built.stack.getLogicalId(built.stack.slackSecret.node.defaultChild as CfnElement);
    const exec = statementsOfRole(built.template, roleIdOf(built.template, 'ExecutionRoleArn'));
    const allowing = (action: string) => exec.filter((s) => s.Effect === 'Allow' && asArray(s.Action).includes(action)).map((s) => JSON.stringify(s.Resource));
    expect(allowing('ssm:GetParameters').join()).toContain(`{"Ref":"${paramId}"}`);
    expect(allowing('secretsmanager:GetSecretValue')).toEqual([JSON.stringify({ Ref: secretId })]);
    const task = statementsOfRole(built.template, roleIdOf(built.template, 'TaskRoleArn'));
    expect(task.flatMap((s) => asArray(s.Action)).filter((a) => /^(ssm:GetParameter|secretsmanager:)/.test(a))).toEqual([]);
  });

  test('a policy over 4 KB uses the advanced tier; over 8 KB it is refused with the size', () => {
    const big = `${CONFIG_YAML}${'# padding\n'.repeat(500)}`;
    synth({ botConfig: { yaml: big } }).template.hasResourceProperties('AWS::SSM::Parameter', { Tier: 'Advanced' });
    const huge = `${CONFIG_YAML}${'# padding\n'.repeat(900)}`;
    expect(() => synth({ botConfig: { yaml: huge } })).toThrow(/botConfig\.yaml: the policy is \d+ bytes; an SSM parameter holds at most 8192/);
  });

  test('an existing parameter instead: not created, referenced by name, readable by the execution role', () => {
    const { template } = synth({ botConfig: { parameterName: '/ops/jit/config' } });
    template.resourceCountIs('AWS::SSM::Parameter', 0);
    const arn = JSON.stringify(secretOf(template, 'JIT_CONFIG_YAML'));
    expect(arn).toContain(`:ssm:${REGION}:${ACCOUNT}:parameter/ops/jit/config`);
    const exec = statementsOfRole(template, roleIdOf(template, 'ExecutionRoleArn'));
    expect(exec.filter((s) => asArray(s.Action).includes('ssm:GetParameters')).map((s) => JSON.stringify(s.Resource)).join()).toContain('parameter/ops/jit/config');
    expect(envOf(template).JIT_CONFIG_SHA256).toBeUndefined();
  });
});

describe('health check', () => {

  test('the container health check probes /readyz on HEALTH_PORT 8080 with node, after a start period', () => {
    expect(HEALTH_PORT).toBe(8080);
    expect(envOf(built.template).HEALTH_PORT).toBe('8080');
    expect(containerOf(built.template).HealthCheck).toEqual({ Command: ['CMD-SHELL', HEALTH_CHECK_COMMAND], Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 60 });
    expect(HEALTH_CHECK_COMMAND).toContain("fetch('http://127.0.0.1:8080/readyz'");
    // The image's own HEALTHCHECK probes the same path and default port.
    expect(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).toMatch(/HEALTHCHECK[\s\S]*process\.env\.HEALTH_PORT\|\|8080\)\+'\/readyz'/);
  });

  describe('the command itself, run through /bin/sh as ECS does (CMD-SHELL)', () => {
    let server: Server;
    let status = 200;
    let port: number;
    beforeAll(async () => {
      server = createServer((req, res) => void res.writeHead(req.url === '/readyz' ? status : 404).end());
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

    const probe = (p: number) =>
      new Promise<number>((ok) => {
        execFile('/bin/sh', ['-c', HEALTH_CHECK_COMMAND.replace(':8080/', `:${p}/`)], { timeout: 20_000 }, (err) => ok(err ? ((err as { code?: number }).code ?? -1) : 0));
      });

    test('exit 0 when /readyz answers 200, 1 when it answers 503 or nothing listens', async () => {
      status = 200;
      expect(await probe(port)).toBe(0);
      status = 503;
      expect(await probe(port)).toBe(1);
      const closed = createServer();
      await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
      const freed = (closed.address() as AddressInfo).port;
      await new Promise<void>((ok) => closed.close(() => ok()));
      expect(await probe(freed)).toBe(1);
    });
  });
});

describe('where the deploy takes the config from (CDK context)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit-ctx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('-c configFile (default ../jit.config.yaml from infra/): the file text', () => {
    writeFileSync(join(dir, 'jit.config.yaml'), CONFIG_YAML);
    expect(botConfigFromContext({ configFile: join(dir, 'jit.config.yaml') })).toEqual({ yaml: CONFIG_YAML });
    expect(botConfigFromContext({}, join(dir, 'infra'))).toEqual({ yaml: CONFIG_YAML });
  });

  test('-c configParameterName: an existing parameter', () => {
    expect(botConfigFromContext({ configParameterName: '/ops/jit/config' })).toEqual({ parameterName: '/ops/jit/config' });
    expect(() => botConfigFromContext({ configFile: 'x', configParameterName: '/y' })).toThrow(/not both/);
  });

  test('a missing file says how to provide one', () => {
    expect(() => botConfigFromContext({ configFile: join(dir, 'nope.yaml') })).toThrow(/context configFile: cannot read .*nope\.yaml \(ENOENT\)\. Copy jit\.config\.example\.yaml/);
  });

  test('deploying is one npm script: cdk deploy', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.deploy).toMatch(/^cdk deploy\b/);
  });
});
