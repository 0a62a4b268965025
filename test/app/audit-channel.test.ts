/**
 * The audit channel through real parts: with `auditChannel` set, every transition of a request
 * is posted there as one line, in order, through the outbox; without it nothing is.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ACTION_APPROVE, ACTION_DENY } from '../../blocks/ids';
import { APPROVER, APPROVER_CHANNEL, CONFIG_YAML, Harness, REQUESTER } from '../support/harness';

const ec2 = mockClient(EC2Client);
const MIN = 60_000;
const AUDIT = 'C0AUDITLOG';
let h: Harness | undefined;

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-0aaa1111bbbb2222c', GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const withAudit = CONFIG_YAML.replace(`approverChannel: ${APPROVER_CHANNEL}`, `approverChannel: ${APPROVER_CHANNEL}\nauditChannel: ${AUDIT}`);
const lines = (id: string) => h!.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === AUDIT && String(c.args.text).includes(id)).map((c) => String(c.args.text));

it('one line per transition, in the order of the audit record, from submission to the verified revoke', async () => {
  h = await Harness.start({ configYaml: withAudit });
  const id = await h.request('request prod-bastion 30m 203.0.113.7 <!channel> investigating');
  h.clock.advance(2 * MIN);
  await h.click(APPROVER, ACTION_APPROVE, id);
  h.clock.advance(25 * MIN);
  await h.sweep(); // expiry warning
  h.clock.advance(5 * MIN);
  await h.sweep(); // expire → revoke
  await h.sweep();
  const stored = (await h.bot.service.get(id))!;
  expect(stored.status).toBe('REVOKED');
  expect(stored.audit.map((a) => a.action)).toEqual(['request', 'approve', 'grant', 'expiry-warning', 'expire', 'revoked']);
  // The same transitions, in the same order, each once.
  expect(lines(id)).toEqual(stored.audit.map((a) => `${a.at} ${id} ${a.action}: ${a.from ?? 'new'} → ${a.to}`));
  const posted = JSON.stringify(h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === AUDIT).map((c) => c.args.blocks));
  // Who, the AWS ids, and the user's text escaped (the reason is in the creation's line).
  expect(posted).toContain(`<@${APPROVER}>`);
  expect(posted).toContain('sgr-0aaa1111bbbb2222c');
  expect(posted).not.toContain('<!channel>');
  expect(stored.outbox).toEqual({});
});

it('a denial: submission and deny, two lines', async () => {
  h = await Harness.start({ configYaml: withAudit });
  const id = await h.request();
  await h.click(APPROVER, ACTION_DENY, id);
  await h.settle();
  expect(lines(id)).toHaveLength(2);
  expect(lines(id)[1]).toMatch(/ deny: PENDING → DENIED$/);
});

it('without auditChannel nothing is posted anywhere but the usual places', async () => {
  h = await Harness.start();
  const id = await h.request();
  await h.click(APPROVER, ACTION_APPROVE, id);
  await h.settle();
  expect((await h.bot.service.get(id))!.status).toBe('ACTIVE');
  const channels = new Set(h.slack.callsTo('chat.postMessage').map((c) => String(c.args.channel)));
  expect([...channels].sort()).toEqual([APPROVER_CHANNEL, REQUESTER].sort());
});
