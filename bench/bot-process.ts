/**
 * The built bot (dist/src/main.js) as its own process, as a host or container runs it: spawned on
 * an embedded store directory with the Slack Web API and EC2 pointed at the bench's stand-ins, so
 * the bot's CPU and memory are its own (the load generator and the stand-ins live in the bench
 * process). Linux /proc gives the main thread's CPU (the JS thread: /proc/<pid>/task/<pid>/stat)
 * and the resident set (VmRSS).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NODE_FLAGS } from '../src/node-flags';

export const REPO = join(__dirname, '..', '..');

export interface BotProcessOptions {
  dataDir: string;
  configPath: string;
  slackUrl: string;
  ec2Url: string;
  signingSecret: string;
  botToken: string;
  /** The process to run (default: the built bot, with the flags the image runs it with). */
  command?: string[];
}

export interface BotProcess {
  pid: number;
  port: number;
  url: string;
  /** Spawn → /readyz answering 200, ms. */
  readyMs: number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Spawns the bot and waits for /readyz to answer 200. */
export async function spawnBot(o: BotProcessOptions): Promise<BotProcess> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SLACK_BOT_TOKEN: o.botToken,
    SLACK_SIGNING_SECRET: o.signingSecret,
    SLACK_API_URL: o.slackUrl,
    PORT: String(port),
    JIT_CONFIG: o.configPath,
    JIT_DATA_DIR: o.dataDir,
    AWS_REGION: 'eu-west-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_EC2: o.ec2Url,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    LOG_LEVEL: 'warn',
    // Profiling: BENCH_BOT_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the bot child.
    ...(process.env.BENCH_BOT_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_BOT_NODE_OPTIONS } : {}),
    // The after-ack lane's width: the bot's default unless JIT_AFTER_ACK_LANE is set in the bench's environment.
    ...(process.env.JIT_AFTER_ACK_LANE ? { JIT_AFTER_ACK_LANE: process.env.JIT_AFTER_ACK_LANE } : {}),
  };
  const command = o.command ?? [process.execPath, ...NODE_FLAGS, join(REPO, 'dist', 'src', 'main.js')];
  const spawnedAt = performance.now();
  const child = spawn(command[0]!, command.slice(1), { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + String(c)).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`the bot exited before it was ready: ${stderr.slice(-800)}`);
    if (performance.now() - spawnedAt > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`the bot was not ready within 60 s: ${stderr.slice(-800)}`);
    }
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await sleep(5);
  }
  const readyMs = performance.now() - spawnedAt;
  return {
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}/slack/events`,
    readyMs,
    stop: async () => {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** CPU (user + system) of the process's main thread, ms (Linux; 1/CLK_TCK resolution). */
export function mainThreadCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / clockTicks()) * 1000;
}

/** CPU (user + system) of the whole process, every thread, ms. */
export function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) / clockTicks()) * 1000;
}

/** Resident set size, MiB (VmRSS). */
export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) / 1024;
}

/** Runs the bare Bolt app (bench/bare-bolt.ts) as its own process; resolves once it listens. */
export async function spawnBareBolt(slackUrl: string, signingSecret: string): Promise<{ pid: number; url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(__dirname, 'bare-bolt.js'), slackUrl, signingSecret], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + String(c)).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += String(c);
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`the bare Bolt app exited: ${stderr.slice(-800)}`)));
  });
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${port}/slack/events`,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** What the bot's RSS is made of, MiB, from its /metrics (prom-client's process and V8 figures). */
export interface MemoryBreakdown {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  /** V8's young generation (semi-spaces), committed. */
  newSpace: number;
  oldSpaceUsed: number;
  code: number;
}

export async function memoryBreakdown(port: number): Promise<MemoryBreakdown | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const mib = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN) / 1048576;
    return {
      rss: mib(/^jit_process_resident_memory_bytes (\S+)/m),
      heapTotal: mib(/^jit_nodejs_heap_size_total_bytes (\S+)/m),
      heapUsed: mib(/^jit_nodejs_heap_size_used_bytes (\S+)/m),
      external: mib(/^jit_nodejs_external_memory_bytes (\S+)/m),
      newSpace: mib(/^jit_nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)/m),
      oldSpaceUsed: mib(/^jit_nodejs_heap_space_size_used_bytes\{space="old"\} (\S+)/m),
      code: mib(/^jit_nodejs_heap_space_size_total_bytes\{space="code"\} (\S+)/m),
    };
  } catch {
    return undefined;
  }
}

export const formatMemory = (m: MemoryBreakdown | undefined): string =>
  m ? `rss ${m.rss.toFixed(0)} = heap ${m.heapTotal.toFixed(0)} (used ${m.heapUsed.toFixed(0)}, old used ${m.oldSpaceUsed.toFixed(0)}, new ${m.newSpace.toFixed(0)}, code ${m.code.toFixed(0)}) + external ${m.external.toFixed(0)} + native rest ${(m.rss - m.heapTotal - m.external).toFixed(0)} MiB` : 'memory: /metrics did not answer';
