/**
 * The ack baseline of `ack_p99_ratio`: a BARE Bolt app (HTTPReceiver, the bench's signing secret)
 * with one listener that only acks `/jit`, run as its own process like the bot under test, so
 * both are measured from the same load generator with the same HTTP client code.
 * Started by bench/scale.ts: `node dist/bench/bare-bolt.js <slack api url> <signing secret>`;
 * prints `port <n>` once listening.
 */
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

async function main(): Promise<void> {
  const [slackApiUrl, signingSecret] = process.argv.slice(2);
  if (!slackApiUrl || !signingSecret) throw new Error('usage: bare-bolt <slack api url> <signing secret>');
  const receiver = new HTTPReceiver({ signingSecret, endpoints: '/slack/events' });
  const app = new App({ token: 'xoxb-bench', receiver, clientOptions: { slackApiUrl }, logLevel: LogLevel.ERROR, deferInitialization: true });
  await app.init();
  app.command('/jit', async ({ ack }) => {
    await ack();
  });
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as import('node:http').Server;
  const { port } = server.address() as import('node:net').AddressInfo;
  process.stdout.write(`port ${port}\n`);
  process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`bare-bolt: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
