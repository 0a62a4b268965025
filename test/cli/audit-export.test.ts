/**
 * npm run audit:export's command line: flags fail fast naming the flag; the bot's embedded store
 * is opened as the bot opens it, and a data directory a running bot holds gets a message that says
 * what to do; records go to stdout or to --out.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type ExportCli, parseArgs, run } from '../../src/cli/audit-export';
import { ConfigError, type EnvConfig, parseConfig } from '../../src/config';
import { AUDIT_RECORD_FIELDS } from '../../src/domain/audit';
import { openAuditStore } from '../../src/main';
import { startEmbeddedDynamo } from '../../src/store/embedded';
import { type EmbeddedStore, openEmbeddedStore } from '../../src/store/local';

jest.setTimeout(60_000);

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const DAY = 86_400_000;
const CONFIG = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER1] }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, port: 22, region: eu-west-1 }
`);

describe('arguments', () => {
  it('a look-back, a date or a date-time; jsonl by default', () => {
    expect(parseArgs(['--since', '30d'], NOW)).toEqual({ sinceIso: new Date(NOW - 30 * DAY).toISOString(), untilIso: new Date(NOW).toISOString(), format: 'jsonl' });
    expect(parseArgs(['--since=2026-11-01', '--until', '2026-11-15T09:30:00Z', '--format', 'csv', '--out', 'x.csv'], NOW)).toEqual({
      sinceIso: '2026-11-01T00:00:00.000Z',
      untilIso: '2026-11-15T09:30:00.000Z',
      format: 'csv',
      out: 'x.csv',
    });
  });

  it.each([
    [[], /^--since is required/],
    [['--since'], /^--since needs a value/],
    [['--since', '--format', 'csv'], /^--since needs a value/],
    [['--since', 'last week'], /^--since: "last week" is neither/],
    [['--since', '30d', '--format', 'xml'], /^--format must be jsonl or csv, not "xml"/],
    [['--since', '30d', '--since', '7d'], /^--since given twice/],
    [['--since', '30d', '--verbose'], /^unknown flag --verbose/],
    [['--since', '30d', 'extra'], /^unexpected argument "extra"/],
    [['--since', '7d', '--until', '8d'], /^--until must be after --since/],
    [['--since', '500d'], /^--since: 500d reaches back further than the retention \(400d\)/],
    [['--since', '30d', '--page-size', '0'], /^--page-size must be a whole number/],
  ])('%j fails naming the flag', (argv, message) => {
    expect(() => parseArgs(argv, NOW)).toThrow(message);
  });

  it('a usage error exits 2 with the message and the usage on stderr, before any store is opened', async () => {
    const err: string[] = [];
    const openStore = jest.fn();
    const code = await run(['--format', 'csv'], (l) => err.push(l), { loadSettings: () => ({ env: {} as EnvConfig, config: CONFIG }), openStore, now: () => NOW, stdout: new PassThrough() });
    expect(code).toBe(2);
    expect(err[0]).toMatch(/^audit:export: --since is required/);
    expect(err[1]).toMatch(/^usage: npm run audit:export/);
    expect(openStore).not.toHaveBeenCalled();
  });

  it('a configuration error exits 2 naming the key', async () => {
    const err: string[] = [];
    const cli: ExportCli = { loadSettings: () => { throw new ConfigError('environment: JIT_CONFIG_PATH: cannot read ./nope.yaml'); }, openStore: jest.fn(), now: () => NOW, stdout: new PassThrough() };
    expect(await run(['--since', '30d'], (l) => err.push(l), cli)).toBe(2);
    expect(err).toEqual(['audit:export: environment: JIT_CONFIG_PATH: cannot read ./nope.yaml']);
  });
});

describe('the embedded store, as the bot keeps it', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jit-audit-export-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cliFor = (dataDir: string, stdout = new PassThrough()): ExportCli => ({
    loadSettings: () => ({ env: { dataDir } as EnvConfig, config: CONFIG }),
    openStore: openAuditStore,
    now: () => Date.now(),
    stdout,
  });

  it('a data directory held by a running bot: says so and how to export, exit 1', async () => {
    const data = join(dir, 'held');
    const bot: EmbeddedStore = await openEmbeddedStore(data); // what a running bot holds
    try {
      const err: string[] = [];
      expect(await run(['--since', '30d'], (l) => err.push(l), cliFor(data))).toBe(1);
      expect(err).toHaveLength(1);
      expect(err[0]).toContain(`data directory ${data} is in use by a running bot`);
      expect(err[0]).toContain('Stop the bot and run the export again');
      expect(err[0]).toContain('JIT_DYNAMODB_TABLE');
    } finally {
      bot.store.close();
    }
  });

  it('a data directory with no store: says so, creates nothing, exit 1', async () => {
    const err: string[] = [];
    expect(await run(['--since', '30d'], (l) => err.push(l), cliFor(join(dir, 'never')))).toBe(1);
    expect(err[0]).toMatch(/there is no embedded store in .*never \(JIT_DATA_DIR\)/);
    expect(() => statSync(join(dir, 'never'))).toThrow();
  });

  it('a data directory of an earlier version (dynalite): says to start the bot once to migrate it, changes nothing, exit 1', async () => {
    const data = join(dir, 'legacy');
    await (await startEmbeddedDynamo(data)).close();
    const before = readdirSync(data).sort();
    const err: string[] = [];
    expect(await run(['--since', '30d'], (l) => err.push(l), cliFor(data))).toBe(1);
    expect(err).toEqual([`audit:export: the data directory ${data} (JIT_DATA_DIR) holds the embedded store of an earlier version (dynalite), which the bot moves to SQLite when it starts: start the bot once, stop it, and run the export again`]);
    expect(readdirSync(data).sort()).toEqual(before);
  });

  it('a free data directory: CSV to --out (owner-only), the header and nothing else when nothing changed; stdout untouched', async () => {
    const data = join(dir, 'free');
    (await openEmbeddedStore(data)).store.close();
    const out = join(dir, 'audit.csv');
    const stdout = new PassThrough();
    let written = '';
    stdout.on('data', (c) => (written += String(c)));
    const err: string[] = [];
    expect(await run(['--since', '7d', '--format', 'csv', '--out', out], (l) => err.push(l), cliFor(data, stdout))).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${AUDIT_RECORD_FIELDS.join(',')}\r\n`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(written).toBe('');
    expect(err.at(-1)).toBe('audit:export: done: 0 records of 0 requests');
  });
});
