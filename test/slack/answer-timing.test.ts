/**
 * The edge timer: a POST is timed from arrival to the end of its answer, on the injected clock,
 * once; GETs (health, metrics) are not timed; the request still reaches the listener unchanged.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timeAnswers } from '../../slack/answer-timing';

let server: Server;
let base: string;
let nowMs = 0;
const observed: number[] = [];
const seen: string[] = [];

beforeAll(async () => {
  server = createServer(
    timeAnswers(
      (req, res) => {
        seen.push(`${req.method} ${req.url}`);
        // The answer takes 1.5 s on the injected clock.
        nowMs += 1_500;
        res.writeHead(200);
        res.end('ok');
      },
      (s) => observed.push(s),
      () => nowMs,
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  observed.length = 0;
  seen.length = 0;
});

it('times a POST from arrival to the end of its answer, once', async () => {
  const res = await fetch(`${base}/slack/events`, { method: 'POST', body: 'x=1' });
  expect(await res.text()).toBe('ok');
  expect(seen).toEqual(['POST /slack/events']);
  expect(observed).toEqual([1.5]);
});

it('does not time GETs (health and metrics)', async () => {
  await (await fetch(`${base}/metrics`)).text();
  expect(seen).toEqual(['GET /metrics']);
  expect(observed).toEqual([]);
});
