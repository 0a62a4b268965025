/**
 * `npm run policy:check [file]`: validates a policy file and prints the effective policy per
 * target. The file is the argument (default ./jit.config.yaml); the environment is not read.
 * Exit codes: 0 valid, 1 invalid (the message names the key), 2 usage.
 */
import { accessSync, constants } from 'node:fs';
import { ConfigError, loadConfigFile } from '../config';
import { describePolicy } from '../policy-report';

export const DEFAULT_CONFIG_PATH = './jit.config.yaml';
const USAGE = 'usage: npm run policy:check [<config file>]   (default ./jit.config.yaml)';

export type Print = (line: string) => void;

/** Runs the check on `argv` (the arguments after the script); returns the exit code. */
export function run(argv: readonly string[], out: Print, err: Print): number {
  if (argv.length > 1 || argv.some((a) => a === '-h' || a === '--help')) {
    (argv.length > 1 ? err : out)(USAGE);
    return argv.length > 1 ? 2 : 0;
  }
  const path = argv[0] ?? DEFAULT_CONFIG_PATH;
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    err(`policy:check: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ${USAGE}`);
    return 1;
  }
  try {
    const config = loadConfigFile(path);
    for (const line of describePolicy(config)) out(line);
    out('');
    out(`OK: ${config.targets.length} target${config.targets.length === 1 ? '' : 's'}`);
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(e.message);
    return 1;
  }
}

if (require.main === module) {
  // `npm run policy:check | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = run(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  );
}
