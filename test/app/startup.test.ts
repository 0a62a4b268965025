/** Start-up failures say what to fix instead of crashing later. */
import pino from 'pino';
import { parseConfig } from '../../src/config';
import { startBot } from '../../src/main';
import { CONFIG_YAML } from '../support/harness';
import { startSlackStandIn } from '../../testkit/slack-stand-in';

it('a token Slack rejects stops start-up with a message naming SLACK_BOT_TOKEN', async () => {
  const slack = await startSlackStandIn();
  try {
    slack.failNext('auth.test', { error: 'invalid_auth' });
    const env = { slackBotToken: 'xoxb-revoked', slack: { mode: 'http' as const, signingSecret: 's', port: 0 }, slackApiUrl: slack.url, configPath: '-', dataDir: '-', logLevel: 'silent' as const };
    await expect(startBot(env, parseConfig(CONFIG_YAML), { inMemoryStore: true, background: false, log: pino({ level: 'silent' }) })).rejects.toThrow(/Slack did not accept the bot token \(auth\.test: .*invalid_auth\); check SLACK_BOT_TOKEN/);
  } finally {
    await slack.close();
  }
});
