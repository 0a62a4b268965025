/**
 * Reason requirements per target through real parts: signed /jit commands and form submissions
 * to the real Bolt receiver, the core on the embedded SQLite store, EC2 mocked at the SDK client. A reason
 * that does not follow the target's rule is refused with the configured message and nothing is
 * stored; one that does carries its ticket as a link in the approval message and in the audit.
 * Extensions of that target follow the same rule.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ACTION_ADDRESS,
  ACTION_APPROVE,
  ACTION_DURATION,
  ACTION_EXTEND_DURATION,
  ACTION_EXTEND_REASON,
  ACTION_REASON,
  ACTION_TARGET,
  BLOCK_ADDRESS,
  BLOCK_DURATION,
  BLOCK_EXTEND_DURATION,
  BLOCK_EXTEND_REASON,
  BLOCK_REASON,
  BLOCK_TARGET,
  CALLBACK_EXTEND_MODAL,
  CALLBACK_REQUEST_MODAL,
} from '../../blocks/ids';
import { APPROVER, APPROVER_CHANNEL, Harness, REQUESTER, text } from '../support/harness';

const ec2 = mockClient(EC2Client);
const MESSAGE = 'Start with a ticket key such as OPS-123 & say why';
let h: Harness;

const yaml = `
approverChannel: ${APPROVER_CHANNEL}
approvers:
  users: [${APPROVER}]
targets:
  - name: prod-bastion
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    region: eu-west-1
    maxDuration: 2h
    reason: { pattern: '^[A-Z]+-[0-9]+ ', message: '${MESSAGE}' }
    ticketUrl: https://jira.example.com/browse/{key}
  - name: dev-box
    kind: ec2-ssh
    securityGroupId: sg-0fedcba9876543210
    region: eu-west-1
`;

beforeEach(async () => {
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-0aaa1111bbbb2222c', GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  h = await Harness.start({ configYaml: yaml });
});
afterEach(async () => {
  await h.stop();
});

const input = (value: string) => ({ type: 'plain_text_input', value });
const ESCAPED = 'Start with a ticket key such as OPS-123 &amp; say why.';

it('/jit request with a reason that does not follow the rule: the configured message, nothing stored or posted', async () => {
  const { reply } = await h.command(REQUESTER, 'request prod-bastion 30m 203.0.113.7 restarting the worker');
  expect(reply?.text).toContain(ESCAPED);
  expect(reply?.text).toContain('`prod-bastion` asks for reasons in this form');
  await h.settle();
  expect(await h.bot.service.listOpen(REQUESTER)).toEqual([]);
  expect(h.approvalPosts()).toHaveLength(0);
  // Another target takes free text.
  await h.request('request dev-box 30m 203.0.113.7 restarting the worker');
});

it('the request form: the message under the reason field, nothing stored', async () => {
  const res = await h.submitModal(
    REQUESTER,
    {
      [BLOCK_TARGET]: { [ACTION_TARGET]: { type: 'static_select', selected_option: { value: 'prod-bastion' } } },
      [BLOCK_DURATION]: { [ACTION_DURATION]: input('30m') },
      [BLOCK_ADDRESS]: { [ACTION_ADDRESS]: input('203.0.113.7') },
      [BLOCK_REASON]: { [ACTION_REASON]: input('ops-1 lower case') },
    },
    CALLBACK_REQUEST_MODAL,
  );
  expect(res.json).toEqual({ response_action: 'errors', errors: { [BLOCK_REASON]: expect.stringContaining('Start with a ticket key such as OPS-123') } });
  expect(await h.bot.service.listOpen(REQUESTER)).toEqual([]);
  expect(h.approvalPosts()).toHaveLength(0);
});

it('a reason that follows it: the approval message links the ticket, the audit records it; an extension follows the same rule', async () => {
  const id = await h.request('request prod-bastion 30m 203.0.113.7 OPS-123 restarting the <worker> & co');
  const msg = text(h.approvalMessage(id));
  expect(msg).toContain('<https://jira.example.com/browse/OPS-123|OPS-123>');
  expect(msg).toContain('OPS-123 restarting the &lt;worker&gt; &amp; co');
  const stored = await h.bot.service.get(id);
  expect(stored!.ticket).toEqual({ key: 'OPS-123', url: 'https://jira.example.com/browse/OPS-123' });
  expect(stored!.audit[0]).toMatchObject({ action: 'request', details: { ticketKey: 'OPS-123', ticketUrl: 'https://jira.example.com/browse/OPS-123' } });

  // Granted; the extension's reason is checked the same way.
  await h.click(APPROVER, ACTION_APPROVE, id);
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'ACTIVE' });
  const extend = (reason: string) =>
    h.submitModal(REQUESTER, { [BLOCK_EXTEND_DURATION]: { [ACTION_EXTEND_DURATION]: input('30m') }, [BLOCK_EXTEND_REASON]: { [ACTION_EXTEND_REASON]: input(reason) } }, CALLBACK_EXTEND_MODAL, id);
  const refused = await extend('still restarting');
  expect(refused.json).toEqual({ response_action: 'errors', errors: { [BLOCK_EXTEND_REASON]: expect.stringContaining('Start with a ticket key such as OPS-123') } });
  expect((await h.bot.service.listOpen(REQUESTER)).filter((r) => r.extends === id)).toEqual([]);

  // Straight to the service too (what the form does after its ack): the same refusal.
  await expect(h.bot.service.extend(id, REQUESTER, { duration: '30m', reason: 'no ticket' })).rejects.toMatchObject({ problem: { code: 'reason-format' } });

  await extend('OPS-124 the restart needs a second pass');
  const [ext] = (await h.bot.service.listOpen(REQUESTER)).filter((r) => r.extends === id);
  expect(ext).toMatchObject({ ticket: { key: 'OPS-124', url: 'https://jira.example.com/browse/OPS-124' } });
  expect(ext!.audit[0]).toMatchObject({ action: 'request-extension', details: { ticketKey: 'OPS-124' } });
  expect(text(h.approvalMessage(ext!.id))).toContain('<https://jira.example.com/browse/OPS-124|OPS-124>');
});
