/**
 * Hostile input at the edge (issue 10, items 3, 6 and the echo side of 10), through the real Bolt
 * HTTP receiver with signed requests: forged, stale, future and replayed signatures; malformed ids
 * in `/jit revoke`, button values and form metadata; reasons and notes carrying mrkdwn, mentions
 * and links. Every case asserts the refusal (status or reply) and that nothing was stored (the
 * store's write methods, and `get` for ids), posted (Web API calls) or granted (EC2 calls).
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { badIdText } from '../../../blocks/command';
import {
  ACTION_APPROVE,
  ACTION_APPROVE_WITH,
  ACTION_COMMENT,
  ACTION_DECISION_DURATION,
  ACTION_DENY,
  ACTION_DENY_WITH,
  ACTION_EXTEND,
  ACTION_EXTEND_DURATION,
  ACTION_EXTEND_REASON,
  ACTION_REVIEW,
  ACTION_SHOW_CREDENTIALS,
  BLOCK_COMMENT,
  BLOCK_DECISION_DURATION,
  BLOCK_EXTEND_DURATION,
  BLOCK_EXTEND_REASON,
  CALLBACK_APPROVE_MODAL,
  CALLBACK_DENY_MODAL,
  CALLBACK_EXTEND_MODAL,
} from '../../../blocks/ids';
import { MAX_REASON_LENGTH } from '../../../src/policy';
import { SqliteRequestStore } from '../../../src/store/sqlite';
import { APPROVER, APPROVER_CHANNEL, Harness, OUTSIDER, REQUESTER, SIGNING_SECRET } from '../../support/harness';
import { sendRaw, signRequest } from '../../../testkit/slack-requests';
import { waitFor } from '../../../testkit/wait';

const ec2 = mockClient(EC2Client);
const STORE_WRITES = ['create', 'transition', 'appendAudit', 'setApprovalMessage', 'join', 'leave', 'beginRevoke', 'forget'] as const;
let h: Harness;
let spies: Record<string, jest.SpyInstance>;

beforeAll(async () => {
  spies = Object.fromEntries([...STORE_WRITES, 'get'].map((m) => [m, jest.spyOn(SqliteRequestStore.prototype, m as 'get')]));
  h = await Harness.start();
});
afterAll(async () => {
  await h.stop();
  jest.restoreAllMocks();
});
beforeEach(async () => {
  await h.settle();
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-0aaa1111bbbb2222c', GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  h.slack.reset();
  h.logLines.length = 0;
  for (const s of Object.values(spies)) s.mockClear();
});

const nowSec = () => Math.floor(Date.now() / 1000);
const storeWrites = () => STORE_WRITES.reduce((n, m) => n + spies[m]!.mock.calls.length, 0);
/** Slack calls other than the read-only lookups of who is asking (auth.test, users.info, groups). */
const slackPosts = () => h.slack.calls.filter((c) => !['auth.test', 'users.info', 'usergroups.users.list'].includes(c.method));
const unexpectedErrors = () => h.logLines.filter((l) => l.includes('unexpected error') || l.includes('"stack"'));

/** Nothing stored, posted or granted, and nothing logged as an unexpected error. */
function expectNothingHappened() {
  expect(storeWrites()).toBe(0);
  expect(slackPosts().map((c) => c.method)).toEqual([]);
  expect(ec2.calls()).toHaveLength(0);
  expect(unexpectedErrors()).toEqual([]);
}

/** A `/jit` body exactly as Slack sends it (form-encoded). */
function commandBody(text: string, responseUrl: string, userId = REQUESTER): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T1',
    team_domain: 't1',
    channel_id: 'C_REQ',
    channel_name: 'jit-requests',
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: '/jit',
    text,
    api_app_id: 'A1',
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: `trig-${randomUUID()}`,
  }).toString();
}

/** POSTs with the request target exactly as given (fetch would normalise it). */
function rawPost(path: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: h.bot.port, method: 'POST', path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ------------------------------------------------------------------ signatures (item 3)

describe('signatures: refused with 401 before any listener runs', () => {
  const forged = (ts: number) => ({ ...signRequest(SIGNING_SECRET, 'x', ts), 'x-slack-signature': `v0=${'ab'.repeat(32)}` });
  const cases: [string, (body: string) => Record<string, string>][] = [
    ['a forged signature', () => forged(nowSec())],
    ['a signature made with another secret', (body) => signRequest('not-the-secret', body)],
    ['stale: signed 301 s ago', (body) => signRequest(SIGNING_SECRET, body, nowSec() - 301)],
    ['future: signed 301 s ahead', (body) => signRequest(SIGNING_SECRET, body, nowSec() + 301)],
    ['future: signed 24 h ahead', (body) => signRequest(SIGNING_SECRET, body, nowSec() + 86_400)],
    ['no signature headers at all', () => ({ 'content-type': 'application/x-www-form-urlencoded' })],
    ['a timestamp but no signature', (body) => ({ ...signRequest(SIGNING_SECRET, body), 'x-slack-signature': '' })],
    ['a signature but no timestamp', (body) => ({ ...signRequest(SIGNING_SECRET, body), 'x-slack-request-timestamp': '' })],
    ['a timestamp that is not a number', (body) => ({ ...signRequest(SIGNING_SECRET, body), 'x-slack-request-timestamp': 'now' })],
    ['the signature of another body', (body) => signRequest(SIGNING_SECRET, `${body}&text=request`)],
  ];
  it.each(cases)('%s', async (_name, headers) => {
    const responseUrl = h.slack.responseUrl();
    const body = commandBody('request prod-bastion 30m 203.0.113.7 hostile', responseUrl);
    const res = await sendRaw(h.url, body, headers(body));
    await h.settle();
    expect(res.status).toBe(401);
    expect(res.body).toBe('');
    expect(h.slack.responses).toEqual([]);
    expect(spies.get!).not.toHaveBeenCalled();
    expectNothingHappened();
  });

  it('a replayed identical request: the first is served, the second (sent right after) gets 401', async () => {
    const responseUrl = h.slack.responseUrl();
    const body = commandBody('request prod-bastion 30m 203.0.113.7 replay me', responseUrl);
    const headers = signRequest(SIGNING_SECRET, body);
    expect((await sendRaw(h.url, body, headers)).status).toBe(200);
    await waitFor(() => h.slack.responses.find((r) => r.url === responseUrl), { message: 'no reply to the first send' });
    await h.settle();
    const created = spies.create!.mock.calls.length;
    const posts = h.approvalPosts().length;
    expect(created).toBe(1);

    const replay = await sendRaw(h.url, body, headers);
    await h.settle();
    expect(replay.status).toBe(401);
    expect(spies.create!.mock.calls.length).toBe(created);
    expect(h.approvalPosts()).toHaveLength(posts);
    expect(h.slack.responses.filter((r) => r.url === responseUrl)).toHaveLength(1);
    expect(h.logLines.some((l) => l.includes('"reason":"replayed"'))).toBe(true);
  });

  it('a replay with a new timestamp but the old signature gets 401', async () => {
    const responseUrl = h.slack.responseUrl();
    const body = commandBody('list', responseUrl);
    const headers = signRequest(SIGNING_SECRET, body, nowSec() - 60);
    expect((await sendRaw(h.url, body, headers)).status).toBe(200);
    await waitFor(() => h.slack.responses.find((r) => r.url === responseUrl));
    await h.settle();
    h.slack.reset();
    const res = await sendRaw(h.url, body, { ...headers, 'x-slack-request-timestamp': String(nowSec()) });
    await h.settle();
    expect(res.status).toBe(401);
    expect(h.slack.responses).toEqual([]);
    expectNothingHappened();
  });

  it.each([
    ['unsigned', false],
    ['unsigned, with a smuggled command and payload', true],
  ])("Slack's ssl_check (%s) gets an empty 200 and nothing else runs", async (_name, smuggle) => {
    const responseUrl = h.slack.responseUrl();
    const smuggled = smuggle ? `&${commandBody('request prod-bastion 30m 203.0.113.7 smuggled', responseUrl)}&payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions' }))}` : '';
    const body = `ssl_check=1${smuggled}`;
    const res = await sendRaw(h.url, body, { 'content-type': 'application/x-www-form-urlencoded' });
    await h.settle();
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(h.slack.responses).toEqual([]);
    expect(spies.get!).not.toHaveBeenCalled();
    expectNothingHappened();
  });

  it.each(['/slack/./events', '/slack/%2e/events', '/slack/x/../events', '/slack/events?ssl=0', 'http://evil.example/slack/events'])(
    'a future-dated request to %s (a path Bolt routes to /slack/events) gets 401 too',
    async (path) => {
      const responseUrl = h.slack.responseUrl();
      const body = commandBody('request prod-bastion 30m 203.0.113.7 other spelling', responseUrl);
      const status = await rawPost(path, body, signRequest(SIGNING_SECRET, body, nowSec() + 86_400));
      await h.settle();
      expect(status).toBe(401);
      expect(h.slack.responses).toEqual([]);
      expectNothingHappened();
    },
  );

  it('health routes are not guarded', async () => {
    const res = await fetch(`http://127.0.0.1:${h.bot.port}/healthz`);
    expect(res.status).toBe(200);
  });
});

// ------------------------------------------------------------------ ids (item 6)

const LONG = 'x'.repeat(3_000);
const MALFORMED_IDS: [string, string][] = [
  ['3,000 characters', LONG],
  ['a 3,000-character id with the right prefix', `jit-${'a'.repeat(2_996)}`],
  ['a user mention', '<@U0APPROVER1>'],
  ['a broadcast', '<!here>'],
  ['mrkdwn', '*bold*'],
  ['a link', '<https://evil.example|x>'],
  ['a Cyrillic lookalike', 'jit-7k3m9q2x\u0430b'],
  ['full-width characters', '\uFF4A\uFF49\uFF54-7k3m9q2xab'],
  ['upper case', 'JIT-7K3M9Q2XAB'],
  ['a letter outside the alphabet (i)', 'jit-7k3m9q2xai'],
  ['one character too long', 'jit-7k3m9q2xab0'],
  ['SQL-ish', "jit-'or'1'='1"],
  ['path traversal', '../../etc/passwd'],
  ['a DynamoDB key separator', 'jit-7k3m9q2xab#lease'],
];

describe('/jit revoke with a malformed id: a clear reply, nothing reaches the store', () => {
  it.each(MALFORMED_IDS)('%s', async (_name, id) => {
    const { status, reply } = await h.command(REQUESTER, `revoke ${id}`);
    expect(status).toBe(200);
    expect(reply?.response_type).toBe('ephemeral');
    expect(reply?.text).toContain(badIdText('command'));
    // Nothing of the input is echoed; the warning says where it came from and how long it was, not what.
    expect(JSON.stringify(reply)).not.toContain(id);
    expect(spies.get!).not.toHaveBeenCalled();
    expect(h.slack.callsTo('chat.postMessage')).toEqual([]);
    expectNothingHappened();
    const warning = h.logLines.find((l) => l.includes('"event":"input.bad_id"'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, source: 'command', length: id.length });
    expect(h.logLines.join('')).not.toContain(id);
  });

  it('an empty id asks for one', async () => {
    const { reply } = await h.command(REQUESTER, 'revoke');
    expect(reply?.text).toContain('Say which request to end');
    expect(spies.get!).not.toHaveBeenCalled();
    expectNothingHappened();
  });
});

describe('buttons carrying something else than a request id', () => {
  const values: [string, string][] = [
    ['not an id', 'not-an-id'],
    ['JSON', JSON.stringify({ id: 'jit-7k3m9q2xab', approve: true })],
    ['3,000 characters', LONG],
    ['a mention', '<!channel>'],
    ['empty', ''],
  ];
  const buttons = [ACTION_APPROVE, ACTION_DENY, ACTION_APPROVE_WITH, ACTION_DENY_WITH, ACTION_REVIEW, ACTION_EXTEND, ACTION_SHOW_CREDENTIALS];
  const cases = buttons.flatMap((action, i) => [values[i % values.length]!, values[(i + 2) % values.length]!].map(([what, value]) => [action, what, value] as const));
  it.each(cases)('%s with %s', async (action, _what, value) => {
    const { status, reply } = await h.clickIn(APPROVER, action, value, APPROVER_CHANNEL);
    expect(status).toBe(200);
    expect(reply).toContain(badIdText('button'));
    expect(spies.get!).not.toHaveBeenCalled();
    expectNothingHappened();
    expect(h.logLines.some((l) => l.includes('"event":"input.bad_id"') && l.includes('"source":"button"') && l.includes(`"length":${value.length}`))).toBe(true);
    if (value.length > 0) expect(h.logLines.join('')).not.toContain(value.length > 20 ? value.slice(0, 20) : value);
  });
});

describe('forged form submissions with bad private_metadata', () => {
  const forms: [string, string, Record<string, Record<string, unknown>>, string][] = [
    [CALLBACK_APPROVE_MODAL, 'empty', { [BLOCK_COMMENT]: { [ACTION_COMMENT]: { type: 'plain_text_input', value: 'ok' } } }, ''],
    [CALLBACK_APPROVE_MODAL, '3,000 characters', { [BLOCK_DECISION_DURATION]: { [ACTION_DECISION_DURATION]: { type: 'plain_text_input', value: '10m' } } }, LONG],
    [CALLBACK_DENY_MODAL, 'JSON', { [BLOCK_COMMENT]: { [ACTION_COMMENT]: { type: 'plain_text_input', value: 'no' } } }, JSON.stringify({ id: 'jit-7k3m9q2xab' })],
    [CALLBACK_DENY_MODAL, 'a mention', {}, '<@U0APPROVER1>'],
    [CALLBACK_EXTEND_MODAL, 'path traversal', { [BLOCK_EXTEND_DURATION]: { [ACTION_EXTEND_DURATION]: { type: 'plain_text_input', value: '30m' } }, [BLOCK_EXTEND_REASON]: { [ACTION_EXTEND_REASON]: { type: 'plain_text_input', value: 'more' } } }, '../../jit-7k3m9q2xab'],
    [CALLBACK_EXTEND_MODAL, 'a link', {}, '<https://evil.example|x>'],
  ];
  it.each(forms)('%s with %s metadata', async (callbackId, _what, values, metadata) => {
    const res = await h.submitModal(APPROVER, values, callbackId, metadata);
    expect(res.status).toBe(200);
    const errors = (res.json as { response_action?: string; errors?: Record<string, string> }).errors ?? {};
    expect((res.json as { response_action?: string }).response_action).toBe('errors');
    expect(Object.values(errors)).toEqual([badIdText('form')]);
    expect(spies.get!).not.toHaveBeenCalled();
    expectNothingHappened();
    expect(h.logLines.some((l) => l.includes('"event":"input.bad_id"') && l.includes('"source":"form"'))).toBe(true);
  });
});

// ------------------------------------------------------------------ reasons and notes (item 10)

/** Everything the bot sent Slack (Web API calls and response-URL posts), as one string. */
const everythingSent = () => JSON.stringify([h.slack.calls.map((c) => c.args), h.slack.responses.map((r) => r.body)]);
const INJECTED = ['<!here>', '<!channel>', '<@U0EVIL>', '<!subteam^S0EVIL>', '<https://evil.example|click>', '<http://evil.example>'];

describe('reasons and notes', () => {
  it.each([
    ['one character over the limit', 'r'.repeat(MAX_REASON_LENGTH + 1)],
    ['3,000 characters', 'r'.repeat(3_000)],
    ['3,000 characters of mentions', '<!here> '.repeat(375)],
  ])('a reason of %s is refused with a clear reply, nothing stored', async (_name, reason) => {
    const { reply } = await h.command(REQUESTER, `request prod-bastion 30m 203.0.113.7 ${reason}`);
    expect(reply?.text).toMatch(new RegExp(`The reason is \\d+ characters long; keep it under ${MAX_REASON_LENGTH}`));
    expect(reply?.text).not.toContain('<!here>');
    expect(h.slack.callsTo('chat.postMessage')).toEqual([]);
    expectNothingHappened();
  });

  it.each(INJECTED)('a reason carrying %s is echoed escaped everywhere (request, approval, decision)', async (injected) => {
    const id = await h.request(`request prod-bastion 30m 203.0.113.7 *urgent* ${injected} please`);
    await h.settle();
    expect(h.approvalMessage(id)).toBeDefined();
    const sent = everythingSent();
    expect(sent).not.toContain(injected);
    expect(sent).toContain(injected.replace(/</g, '&lt;').replace(/>/g, '&gt;').slice(0, 8));
    // Clean up: deny it so later cases start from nothing pending.
    await h.click(APPROVER, ACTION_DENY, id);
    expect(everythingSent()).not.toContain(injected);
  });

  it('a decision note carrying mentions and links is escaped in every message it reaches', async () => {
    const id = await h.request('request prod-bastion 30m 203.0.113.7 note test');
    const note = `<!here> <@U0EVIL> <https://evil.example|approve me> *bold*`;
    const res = await h.submitModal(APPROVER, { [BLOCK_COMMENT]: { [ACTION_COMMENT]: { type: 'plain_text_input', value: note } } }, CALLBACK_DENY_MODAL, id);
    expect(res.status).toBe(200);
    await waitFor(async () => (await h.bot.service.get(id))?.status === 'DENIED');
    await h.settle();
    expect(h.dms(REQUESTER).join('')).toContain('&lt;!here&gt;');
    const sent = everythingSent();
    for (const raw of ['<!here>', '<@U0EVIL>', '<https://evil.example']) expect(sent).not.toContain(raw);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('a decision note over the limit is refused under the field, nothing decided', async () => {
    const id = await h.request('request prod-bastion 30m 203.0.113.7 long note');
    const before = (await h.bot.service.get(id))!.version;
    for (const s of Object.values(spies)) s.mockClear();
    h.slack.reset();
    const res = await h.submitModal(APPROVER, { [BLOCK_COMMENT]: { [ACTION_COMMENT]: { type: 'plain_text_input', value: '<!here>'.repeat(100) } } }, CALLBACK_APPROVE_MODAL, id);
    expect((res.json as { response_action?: string; errors?: Record<string, string> }).errors?.[BLOCK_COMMENT]).toMatch(/\d+ characters/);
    const after = await h.bot.service.get(id);
    expect(after).toMatchObject({ status: 'PENDING', version: before });
    expectNothingHappened();
    await h.click(APPROVER, ACTION_DENY, id);
  });

  it('a well-formed id of no request: looked up, "no request", nothing written', async () => {
    const { reply } = await h.command(OUTSIDER, 'revoke jit-7k3m9q2xab');
    expect(reply?.text).toContain('There is no request');
    expect(spies.get!).toHaveBeenCalledWith('jit-7k3m9q2xab');
    expectNothingHappened();
  });
});
