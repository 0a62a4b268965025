/**
 * Where the deploy takes the bot's policy YAML from (CDK context, see bin/app.ts):
 *   -c configFile=<path>            a local file (default ../jit.config.yaml, relative to infra/);
 *                                   the stack stores its text in an SSM parameter it manages;
 *   -c configParameterName=<name>   an existing SSM String parameter, managed outside the stack.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BotConfigSource } from './jit-bot-stack';

export const DEFAULT_CONFIG_FILE = '../jit.config.yaml';

export function botConfigFromContext(ctx: { configFile?: string; configParameterName?: string }, cwd: string = process.cwd()): BotConfigSource {
  if (ctx.configFile && ctx.configParameterName) {
    throw new Error('set either -c configFile=<path> or -c configParameterName=<existing SSM parameter>, not both');
  }
  if (ctx.configParameterName) return { parameterName: ctx.configParameterName };
  const file = resolve(cwd, ctx.configFile ?? DEFAULT_CONFIG_FILE);
  let yaml: string;
  try {
    yaml = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(
      `context configFile: cannot read ${file} (${code}). Copy jit.config.example.yaml to jit.config.yaml at the repository root and edit it ` +
        '(check it with `npm run policy:check`), pass -c configFile=<path>, or -c configParameterName=<existing SSM parameter>',
    );
  }
  return { yaml };
}
