/**
 * `npm run doctor`: checks everything the bot depends on and prints ✓ / ✗ with the fix for each
 * failure. Reads the environment, .env and the policy file exactly as the bot does (loadSettings).
 * Exit codes: 0 every check passed, 1 some check failed, 2 the configuration itself is invalid
 * (or a usage error).
 */
import '../compile-cache'; // first: caches what the imports below compile
import { ConfigError, type EnvConfig, type JitConfig } from '../config';
import { type DoctorReport, fail, renderDoctorText, runDoctor, type Check } from '../doctor';
import { loadSettings, openDoctor } from '../main';

const USAGE = 'usage: npm run doctor   (reads the environment and .env like npm start)';

export type Print = (line: string) => void;

export interface DoctorCli {
  /** The environment and policy file (main.ts's loadSettings); throws ConfigError. */
  loadSettings(): { env: EnvConfig; config: JitConfig };
  /** The checks and the clients behind them (main.ts's openDoctor). */
  openDoctor(env: EnvConfig, config: JitConfig): { checks: Check[]; close(): void };
}

/** Runs the doctor; returns the exit code. */
export async function run(argv: readonly string[], out: Print, err: Print, cli: DoctorCli = { loadSettings: () => loadSettings(), openDoctor }, opts: { timeoutMs?: number } = {}): Promise<number> {
  if (argv.length > 0) {
    const help = argv.length === 1 && (argv[0] === '-h' || argv[0] === '--help');
    (help ? out : err)(USAGE);
    return help ? 0 : 2;
  }
  let settings: { env: EnvConfig; config: JitConfig };
  try {
    settings = cli.loadSettings();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const report: DoctorReport = { results: [{ name: 'config valid', ...fail(e.message, 'fix the key named above (README → Configuration reference), then run npm run doctor again') }], passed: 0, failed: 1, ok: false };
    for (const line of renderDoctorText(report)) out(line);
    return 2;
  }
  const doctor = cli.openDoctor(settings.env, settings.config);
  try {
    const report = await runDoctor(doctor.checks, opts);
    for (const line of renderDoctorText(report)) out(line);
    return report.ok ? 0 : 1;
  } finally {
    doctor.close();
  }
}

if (require.main === module) {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  run(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  ).then(
    (code) => {
      // Idle SDK and Slack sockets may keep the loop alive a while: exit once the report is written.
      process.exitCode = code;
      process.stdout.write('', () => process.exit(code));
    },
    (e: unknown) => {
      process.stderr.write(`doctor: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
