/**
 * `npm run audit:export -- --since 30d [--until <time>] --format jsonl|csv [--out FILE]`: every
 * transition (audit record) in the window, one record per line, to stdout or FILE (created 0600:
 * it holds user ids and reasons). Reads the environment, .env and the policy file exactly as the
 * bot does (loadSettings), and the same store: the DynamoDB table (JIT_DYNAMODB_TABLE) or the
 * embedded store's data directory (JIT_DATA_DIR). The record schema: README → Audit export.
 * Exit codes: 0 exported, 1 the export failed (e.g. the data directory is in use), 2 usage or
 * configuration error.
 */
import '../compile-cache'; // first: caches what the imports below compile
import { createWriteStream, type WriteStream } from 'node:fs';
import { EXPORT_FORMATS, exportAudit, type ExportFormat, type ExportSummary } from '../audit-export';
import { ConfigError, type EnvConfig, type JitConfig } from '../config';
import { DEFAULT_AUDIT_WINDOW_MS } from '../domain/audit';
import { formatDuration, parseDuration } from '../domain/duration';
import { DEFAULT_RETENTION_MS } from '../domain/retention';
import { loadSettings, NoStoreError, openAuditStore, UnmigratedStoreError } from '../main';
import type { RequestStore } from '../ports';
import { DataDirLockedError } from '../store/embedded';

export const USAGE =
  'usage: npm run audit:export -- --since <30d | 2026-03-01[T00:00:00Z]> [--until <time>] [--format jsonl|csv] [--out FILE]   (reads the environment and .env like npm start)';

export type Print = (line: string) => void;

export interface ExportArgs {
  sinceIso: string;
  untilIso: string;
  format: ExportFormat;
  out?: string;
  pageSize?: number;
}

export class UsageError extends Error {}

const FLAGS = new Set(['--since', '--until', '--format', '--out', '--page-size']);

/** A time: a look-back ("30d", "12h") from `now`, or an ISO date or date-time (UTC when no zone is given). */
function timeArg(flag: string, text: string, now: number): number {
  const back = parseDuration(text);
  if (back !== undefined) return now - back;
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text)) {
    const iso = /T.*(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : text.includes('T') ? `${text}Z` : `${text}T00:00:00Z`;
    const ms = Date.parse(iso);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageError(`${flag}: "${text}" is neither a look-back such as 30d or 12h nor a date such as 2026-03-01 or 2026-03-01T09:00:00Z`);
}

/** Parses the arguments; UsageError names the flag. */
export function parseArgs(argv: readonly string[], now: number, retentionMs: number = DEFAULT_RETENTION_MS): ExportArgs {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (!FLAGS.has(flag)) throw new UsageError(`${flag.startsWith('-') ? `unknown flag ${flag}` : `unexpected argument "${flag}"`}`);
    if (given.has(flag)) throw new UsageError(`${flag} given twice`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    given.set(flag, value);
  }
  const since = given.get('--since');
  if (since === undefined) throw new UsageError(`--since is required (e.g. --since ${formatDuration(DEFAULT_AUDIT_WINDOW_MS)})`);
  const sinceMs = timeArg('--since', since, now);
  const untilMs = given.has('--until') ? timeArg('--until', given.get('--until')!, now) : now;
  if (sinceMs < now - retentionMs) throw new UsageError(`--since: ${since} reaches back further than the retention (${formatDuration(retentionMs)}); nothing older is kept`);
  if (untilMs <= sinceMs) throw new UsageError('--until must be after --since');
  const format = given.get('--format') ?? 'jsonl';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be ${EXPORT_FORMATS.join(' or ')}, not "${format}"`);
  let pageSize: number | undefined;
  if (given.has('--page-size')) {
    pageSize = Number(given.get('--page-size'));
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1_000) throw new UsageError('--page-size must be a whole number from 1 to 1000');
  }
  return {
    sinceIso: new Date(sinceMs).toISOString(),
    untilIso: new Date(untilMs).toISOString(),
    format: format as ExportFormat,
    ...(given.has('--out') ? { out: given.get('--out')! } : {}),
    ...(pageSize !== undefined ? { pageSize } : {}),
  };
}

export interface ExportCli {
  loadSettings(): { env: EnvConfig; config: JitConfig };
  openStore(env: EnvConfig): Promise<{ store: Pick<RequestStore, 'changedSince'>; where: string; close(): Promise<void> }>;
  now(): number;
  /** Where records go without --out. */
  stdout: NodeJS.WritableStream;
}

const defaultCli = (): ExportCli => ({ loadSettings: () => loadSettings(), openStore: openAuditStore, now: () => Date.now(), stdout: process.stdout });

/** Runs the export; returns the exit code. Errors and progress go to `err` (stderr). */
export async function run(argv: readonly string[], err: Print, cli: ExportCli = defaultCli(), opts: { onPage?: (n: number) => void } = {}): Promise<number> {
  if (argv.length === 1 && (argv[0] === '-h' || argv[0] === '--help')) {
    err(USAGE);
    return 0;
  }
  let settings: { env: EnvConfig; config: JitConfig };
  try {
    settings = cli.loadSettings();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`audit:export: ${e.message}`);
    return 2;
  }
  let args: ExportArgs;
  try {
    args = parseArgs(argv, cli.now(), settings.config.retentionMs);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`audit:export: ${e.message}`);
    err(USAGE);
    return 2;
  }
  let opened: Awaited<ReturnType<ExportCli['openStore']>>;
  try {
    opened = await cli.openStore(settings.env);
  } catch (e) {
    if (e instanceof DataDirLockedError) {
      err(
        `audit:export: the embedded store's data directory ${e.path} is in use by a running bot (the embedded store allows one process at a time). ` +
          'Stop the bot and run the export again (the bot can be started again right after), or run the bot on a DynamoDB table (JIT_DYNAMODB_TABLE), which the export reads while bots run.',
      );
      return 1;
    }
    if (e instanceof NoStoreError || e instanceof UnmigratedStoreError) {
      err(`audit:export: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const out: NodeJS.WritableStream = args.out ? createWriteStream(args.out, { mode: 0o600 }) : cli.stdout;
  let failed: Error | undefined;
  out.on('error', (e: Error) => {
    failed = e;
  });
  const write = (chunk: string) =>
    new Promise<void>((resolve, reject) => {
      if (failed) return reject(failed);
      if (out.write(chunk)) return resolve();
      const done = () => {
        out.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        out.off('drain', done);
        reject(e);
      };
      out.once('drain', done);
      out.once('error', onError);
    });
  let summary: ExportSummary;
  try {
    err(`audit:export: transitions from ${args.sinceIso} to ${args.untilIso}, ${args.format}, from the ${opened.where}${args.out ? ` to ${args.out}` : ''}`);
    summary = await exportAudit(opened.store, { sinceIso: args.sinceIso, untilIso: args.untilIso, nowIso: new Date(Math.max(cli.now(), Date.parse(args.untilIso))).toISOString(), format: args.format, ...(args.pageSize ? { pageSize: args.pageSize } : {}) }, { write, progress: err, ...(opts.onPage ? { onPage: opts.onPage } : {}) });
    if (args.out) await new Promise<void>((resolve, reject) => (out as WriteStream).end((e?: Error | null) => (e ? reject(e) : resolve())));
  } catch (e) {
    err(`audit:export: ${(e as Error).message}`);
    return 1;
  } finally {
    await opened.close();
  }
  err(`audit:export: done: ${summary.records} records of ${summary.requests} requests`);
  return 0;
}

if (require.main === module) {
  // `npm run audit:export | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  run(process.argv.slice(2), (line) => process.stderr.write(`${line}\n`)).then(
    (code) => {
      process.exitCode = code;
      process.stdout.write('', () => process.exit(code));
    },
    (e: unknown) => {
      process.stderr.write(`audit:export: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
