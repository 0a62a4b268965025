/**
 * The container image without Docker: replays the two stages of the Dockerfile on this machine and
 * runs the result.
 *
 *   build stage    the files the Dockerfile COPYs into the build stage, compiled with `npm run build`
 *                  (node_modules is the repository's own: the full dev install);
 *   runtime stage  package.json + package-lock.json installed with the runtime stage's own `npm ci`
 *                  flags (read from the Dockerfile: --omit=dev --omit=optional), plus the dist
 *                  folders the Dockerfile copies from the build stage, nothing else.
 *
 * Then `node dist/src/main.js` is started from that folder against the local stand-ins (a dynalite
 * server in this process as "DynamoDB", the Slack stand-in) and must start and answer `/jit help` (in the ack) and `/jit list` (from the store);
 * without JIT_DYNAMODB_TABLE it must do the same on the embedded store (SQLite, built into Node), and
 * on a data directory of an earlier version (dynalite) it must stop with a clear message and touch
 * nothing, since dynalite, which the migration needs, is not installed.
 *
 * Slow by nature (a real `npm ci` and a compile): about 15–40 s on a busy 2-core machine.
 * JIT_IMAGE_TEST_NODE=<path to a node binary> runs the bot with that Node (e.g. the image's Node 22;
 * the embedded store needs Node 22.13+ for node:sqlite).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../../src/config';
import { ensureTable } from '../../src/store/dynamo';
import { LEGACY_TABLE } from '../../src/store/migrate-dynalite';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../src/store/embedded';
import { slashCommand } from '../../testkit/slack-requests';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';
import { waitFor } from '../../testkit/wait';
import { NODE_FLAGS } from '../../src/node-flags';

jest.setTimeout(180_000);

const REPO = resolve(__dirname, '..', '..');
const SIGNING_SECRET = 'image-test-signing-secret';
const TABLE = 'jit-image-test';
const CONFIG_YAML = `
approverChannel: C0APPROVERS
approvers:
  users: [U0APPROVER1]
targets:
  - name: prod-bastion
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    region: eu-west-1
`;

// ---------------------------------------------------------------- the Dockerfile, read

interface Stage {
  name: string;
  lines: string[];
}

/** The Dockerfile's stages with their instructions (continuation lines joined, comments dropped). */
function dockerfileStages(): Stage[] {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)$/i.exec(line);
    if (from) stages.push({ name: from[1]!, lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

const stage = (name: string) => {
  const s = dockerfileStages().find((x) => x.name === name);
  if (!s) throw new Error(`the Dockerfile has no stage "${name}"`);
  return s;
};

/** `COPY <src...> <dest>` of the build context (not --from=…), as [sources, dest]. */
const contextCopies = (s: Stage) =>
  s.lines
    .filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l))
    .map((l) => {
      const parts = l.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'));
      return { sources: parts.slice(0, -1), dest: parts.at(-1)! };
    });

/** `COPY --from=build /app/<path> ./<path>` lines of the runtime stage, as app-relative paths. */
const fromBuild = (s: Stage) =>
  s.lines
    .filter((l) => /^COPY\s+--from=build\s/i.test(l))
    .map((l) => {
      const [, src, dest] = /--from=build\s+\/app\/(\S+)\s+(\S+)$/.exec(l) ?? [];
      if (!src || !dest || dest.replace(/^\.\//, '') !== src) throw new Error(`unexpected COPY --from=build: ${l}`);
      return src;
    });

/** The runtime stage's `npm ci …` arguments. */
const runtimeInstallArgs = (s: Stage) => {
  const run = s.lines.find((l) => /^RUN\s+npm ci\b/.test(l));
  if (!run) throw new Error('the runtime stage has no RUN npm ci');
  return run.replace(/^RUN\s+/, '').split('&&')[0]!.trim().split(/\s+/).slice(1);
};

// ---------------------------------------------------------------- helpers

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${cmd} ${args.join(' ')} failed (${err.message}):\n${stdout}\n${stderr}`));
      else ok(`${stdout}${stderr}`);
    });
  });
}

interface Bot {
  child: ChildProcess;
  stdout: string[];
  stderr: string;
  exited: Promise<number | null>;
  /** pino JSON lines from stdout. */
  logs(): Array<Record<string, unknown>>;
}

function startBuiltBot(appDir: string, env: Record<string, string>): Bot {
  const child = spawn(process.env.JIT_IMAGE_TEST_NODE || process.execPath, ['dist/src/main.js'], { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const bot: Bot = {
    child,
    stdout: [],
    stderr: '',
    exited: new Promise((ok) => child.once('exit', (code) => ok(code))),
    logs: () =>
      bot.stdout.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
  };
  let partial = '';
  child.stdout!.on('data', (c: Buffer) => {
    const lines = (partial + String(c)).split('\n');
    partial = lines.pop()!;
    bot.stdout.push(...lines.filter(Boolean));
  });
  child.stderr!.on('data', (c: Buffer) => (bot.stderr += String(c)));
  return bot;
}

const output = (bot: Bot) => `stdout:\n${bot.stdout.slice(-30).join('\n')}\nstderr:\n${bot.stderr}`;

// ---------------------------------------------------------------- the two stages

let work: string;
let appDir: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'jit-image-'));

  // Build stage: only what the Dockerfile copies in, compiled by `npm run build`.
  let t = Date.now();
  const buildDir = join(work, 'build');
  mkdirSync(buildDir);
  for (const { sources, dest } of contextCopies(stage('build'))) {
    for (const src of sources) {
      const target = dest.endsWith('/') ? join(buildDir, dest, src) : join(buildDir, dest);
      cpSync(join(REPO, src), target, { recursive: true });
    }
  }
  symlinkSync(join(REPO, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
  await run('npm', ['run', 'build', '--silent'], buildDir, 120_000);
  timings.build = Date.now() - t;

  // Runtime stage: production dependencies only, from the lockfile, plus the built folders.
  t = Date.now();
  appDir = join(work, 'app');
  mkdirSync(appDir);
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(REPO, f), join(appDir, f));
  // The cache is warm from the main install; the registry is reachable for anything missing.
  await run('npm', [...runtimeInstallArgs(stage('runtime')), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], appDir, 150_000);
  timings.install = Date.now() - t;
  for (const path of fromBuild(stage('runtime'))) cpSync(join(buildDir, path), join(appDir, path), { recursive: true });
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  process.stdout.write(`production-install timings (ms): ${JSON.stringify(timings)}\n`);
});

describe('the runtime image layout (replayed without Docker)', () => {
  it('the runtime stage installs production dependencies only, without dynalite (only migrating an old data directory needs it)', () => {
    const args = runtimeInstallArgs(stage('runtime'));
    expect(args).toEqual(expect.arrayContaining(['ci', '--omit=dev', '--omit=optional']));

    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }> };
    const entries = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'));
    const needed = entries.filter(([, p]) => !p.dev && !p.optional && !p.devOptional).map(([path]) => path);
    const left = entries.filter(([, p]) => p.dev || p.optional || p.devOptional).map(([path]) => path);
    // Nothing the bot needs was dropped...
    expect(needed.filter((path) => !existsSync(join(appDir, path)))).toEqual([]);
    // ...and nothing else came along: no dev tool, no dynalite and its native LevelDB build.
    expect(left.filter((path) => existsSync(join(appDir, path)))).toEqual([]);
    for (const name of ['dynalite', 'classic-level', 'jest', 'typescript', '@swc/core', 'aws-sdk-client-mock']) expect(existsSync(join(appDir, 'node_modules', name))).toBe(false);
    expect(existsSync(join(appDir, 'node_modules', '@slack', 'bolt'))).toBe(true);
    // dynalite is optional in package.json, so the dev install (npm ci) still has it.
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(pkg.optionalDependencies?.dynalite).toBe('4.0.0');
    expect(pkg.dependencies?.dynalite).toBeUndefined();
  });

  it('ships dist/src, dist/handlers, dist/blocks and dist/slack only (no demo, bench, testkit or test code)', () => {
    expect(fromBuild(stage('runtime')).sort()).toEqual(['dist/blocks', 'dist/handlers', 'dist/slack', 'dist/src']);
    expect(readdirSync(join(appDir, 'dist')).sort()).toEqual(['blocks', 'handlers', 'slack', 'src']);
  });

  it('runs as the node user with NODE_ENV=production, the health check on /readyz and main.js as the command', () => {
    const runtime = stage('runtime').lines;
    expect(runtime).toContain('USER node');
    expect(runtime.find((l) => l.startsWith('ENV '))).toMatch(/NODE_ENV=production/);
    expect(runtime.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(/fetch\('http:\/\/127\.0\.0\.1:'\+\(process\.env\.HEALTH_PORT\|\|8080\)\+'\/readyz'/);
    expect(runtime).toContain('EXPOSE 8080');
    expect(runtime.at(-1)).toBe(`CMD [${['node', ...NODE_FLAGS, 'dist/src/main.js'].map((a) => `"${a}"`).join(', ')}]`);
    expect(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).toMatch(/^ARG NODE_IMAGE=node:(22|24)-bookworm-slim$/m);
  });
});

describe('the built bot from the production install', () => {
  let slack: SlackStandIn;
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  const bots: Bot[] = [];

  beforeAll(async () => {
    slack = await startSlackStandIn();
    dynamo = await startEmbeddedDynamo(undefined);
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await ensureTable(client, TABLE);
  });

  afterAll(async () => {
    for (const b of bots) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
    await Promise.all(bots.map((b) => b.exited));
    client?.destroy();
    await Promise.allSettled([slack?.close(), dynamo?.close()]);
  });

  const baseEnv = () => ({
    SLACK_BOT_TOKEN: 'xoxb-image-test',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    JIT_CONFIG_YAML: CONFIG_YAML,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
  });

  it('starts against DynamoDB (JIT_DYNAMODB_TABLE) with the policy from JIT_CONFIG_YAML and answers a signed /jit help and /jit list', async () => {
    const t = Date.now();
    const bot = startBuiltBot(appDir, { ...baseEnv(), JIT_DYNAMODB_TABLE: TABLE, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
    bots.push(bot);
    // Stop waiting as soon as the process exits (a missing module kills it at once).
    const started = await waitFor(() => (bot.child.exitCode !== null ? 'exited' : bot.logs().find((l) => l.msg === 'jit-access-bot started')), {
      timeoutMs: 60_000,
      intervalMs: 50,
      message: () => `"jit-access-bot started"\n${output(bot)}`,
    });
    if (started === 'exited') throw new Error(`the bot exited with ${bot.child.exitCode} before it started\n${output(bot)}`);
    timings.startToReady = Date.now() - t;
    expect(started).toMatchObject({ targets: 1 });
    expect(bot.logs().find((l) => l.msg === 'using DynamoDB table')).toMatchObject({ table: TABLE });
    const port = bot.logs().find((l) => l.msg === 'listening for Slack requests')?.port;
    expect(typeof port).toBe('number');

    const help = await slashCommand(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, { userId: 'U0REQUESTER', text: 'help', responseUrl: slack.responseUrl() });
    expect(help.status).toBe(200);
    expect((help.json as { response_type?: string }).response_type).toBe('ephemeral'); // answered in the ack
    expect(help.body).toContain('/jit request');
    // `/jit list` reads the store (DynamoDB here) and answers through response_url.
    const responseUrl = slack.responseUrl();
    const res = await slashCommand(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, { userId: 'U0REQUESTER', text: 'list', responseUrl });
    expect(res.status).toBe(200);
    const reply = await waitFor(() => slack.responses.find((r) => r.url === responseUrl), { timeoutMs: 30_000, message: () => `the /jit list reply\n${output(bot)}` });
    expect((reply.body as { response_type?: string }).response_type).toBe('ephemeral');
    expect(JSON.stringify(reply.body)).toContain('no pending or active requests');

    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.stderr).not.toMatch(/dynalite|Cannot find module/);
  });

  /** Starts the built bot and waits for "jit-access-bot started" (or its exit); returns the HTTP port. */
  async function started(bot: Bot): Promise<number> {
    const line = await waitFor(() => (bot.child.exitCode !== null ? 'exited' : bot.logs().find((l) => l.msg === 'jit-access-bot started')), {
      timeoutMs: 60_000,
      intervalMs: 50,
      message: () => `"jit-access-bot started"\n${output(bot)}`,
    });
    if (line === 'exited') throw new Error(`the bot exited with ${bot.child.exitCode} before it started\n${output(bot)}`);
    const port = bot.logs().find((l) => l.msg === 'listening for Slack requests')?.port;
    expect(typeof port).toBe('number');
    return port as number;
  }

  it('without JIT_DYNAMODB_TABLE it starts on the embedded store (SQLite, no optional dependency) in JIT_DATA_DIR and answers /jit help and /jit list', async () => {
    const dataDir = join(work, 'data-sqlite');
    const t = Date.now();
    const bot = startBuiltBot(appDir, { ...baseEnv(), JIT_DATA_DIR: dataDir });
    bots.push(bot);
    const port = await started(bot);
    timings.startToReadyEmbedded = Date.now() - t;
    expect(bot.logs().find((l) => l.msg === 'using the embedded store (SQLite)')).toMatchObject({ dataDir, file: join(dataDir, 'jit.sqlite') });
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'jit.sqlite')).mode & 0o777).toBe(0o600);

    const help = await slashCommand(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, { userId: 'U0REQUESTER', text: 'help', responseUrl: slack.responseUrl() });
    expect(help.body).toContain('/jit request');
    const responseUrl = slack.responseUrl();
    const res = await slashCommand(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, { userId: 'U0REQUESTER', text: 'list', responseUrl });
    expect(res.status).toBe(200);
    const reply = await waitFor(() => slack.responses.find((r) => r.url === responseUrl), { timeoutMs: 30_000, message: () => `the /jit list reply\n${output(bot)}` });
    expect(JSON.stringify(reply.body)).toContain('no pending or active requests');

    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.stderr).not.toMatch(/dynalite|Cannot find module|ExperimentalWarning/);
  });

  it('on a data directory of an earlier version (dynalite) it stops at once saying how to migrate, and touches nothing', async () => {
    const dataDir = join(work, 'data-dynalite');
    // What the previous version's embedded store left (written here with the dev install's dynalite).
    const old = await startEmbeddedDynamo(dataDir);
    const oldClient = new DynamoDBClient({ endpoint: old.endpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await ensureTable(oldClient, LEGACY_TABLE);
    oldClient.destroy();
    await old.close();
    const before = readdirSync(dataDir).sort();

    const bot = startBuiltBot(appDir, { ...baseEnv(), JIT_DATA_DIR: dataDir });
    bots.push(bot);
    const code = await bot.exited;
    expect(code).not.toBe(0);
    expect(bot.stderr).toContain(
      `jit-access-bot: failed to start: the data directory ${dataDir} (JIT_DATA_DIR) holds the embedded store of an earlier version (dynalite), which this version moves to SQLite at start, but dynalite, needed once to read it, is not installed here: start the bot once from a full install (npm ci, with the optional dependencies) to migrate it`,
    );
    expect(readdirSync(dataDir).sort()).toEqual(before);
  });
});

it('the policy in this test is one the bot accepts (so a start-up failure above is not the config)', () => {
  expect(parseConfig(CONFIG_YAML, 'JIT_CONFIG_YAML').targets.map((t) => t.name)).toEqual(['prod-bastion']);
});
