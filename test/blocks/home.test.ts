import type { KnownBlock } from '@slack/types';
import { HOME_ITEMS_SHOWN, homeView, permalink } from '../../blocks/home';
import { ACTION_APPROVE, ACTION_DENY, ACTION_EXTEND, ACTION_HOME_REQUEST, ACTION_REVOKE_NOW, ACTION_WITHDRAW } from '../../blocks/ids';
import { LIMITS } from '../../blocks/text';
import type { HomeContents } from '../../src/domain/types';
import { APPROVER, at, CHANNEL, expectNoRawPing, inStatus, NASTY, NASTY_ESCAPED, REQUESTER, request } from './fixtures';

const home = (o: Partial<HomeContents> = {}): HomeContents => ({ userId: REQUESTER, at: at(10), active: [], extendable: [], pending: [], waiting: [], waitingMore: false, ...o });

type Button = { action_id: string; value: string; confirm?: { title: { text: string } } };
const buttons = (blocks: KnownBlock[]) => blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as unknown as Button[]) : []));
const all = (o: Partial<HomeContents>) => JSON.stringify(homeView(home(o)));

it('an empty home: the Request access button and both own sections, saying there is nothing; no Waiting on me', () => {
  const view = homeView(home());
  expect(view.type).toBe('home');
  expect(buttons(view.blocks).map((b) => b.action_id)).toEqual([ACTION_HOME_REQUEST]);
  const text = JSON.stringify(view);
  expect(text).toContain('My access');
  expect(text).toContain('No active access');
  expect(text).toContain('My requests');
  expect(text).toContain('Nothing waiting for approval');
  expect(text).not.toContain('Waiting on me');
});

it('My access: each active grant with its time left, Revoke now (confirmed) and Extend only where the core offers it', () => {
  const a = inStatus('ACTIVE', { id: 'jit-aaaaaaaaaa', expiresAt: at(36) });
  const b = inStatus('ACTIVE', { id: 'jit-bbbbbbbbbb', expiresAt: at(70) });
  const view = homeView(home({ active: [a, b], extendable: [b.id] }));
  const text = JSON.stringify(view);
  expect(text).toContain('26m left'); // at(36) − at(10)
  expect(text).toContain('1h left');
  expect(buttons(view.blocks).map((x) => [x.action_id, x.value])).toEqual([
    [ACTION_HOME_REQUEST, 'new'],
    [ACTION_REVOKE_NOW, a.id],
    [ACTION_REVOKE_NOW, b.id],
    [ACTION_EXTEND, b.id],
  ]);
  expect(buttons(view.blocks).find((x) => x.action_id === ACTION_REVOKE_NOW)?.confirm?.title.text).toBe('Revoke access now?') // the one Revoke now button (blocks/revoke.ts);
});

it('My requests: each pending request with Withdraw and a link to its approval message', () => {
  const r = request({ id: 'jit-cccccccccc', approvalMessage: { channel: CHANNEL, ts: '1795444320.000200' } });
  const view = homeView(home({ pending: [r] }));
  expect(buttons(view.blocks).filter((x) => x.action_id === ACTION_WITHDRAW).map((x) => x.value)).toEqual([r.id]);
  expect(JSON.stringify(view)).toContain(`<https://slack.com/archives/${CHANNEL}/p1795444320000200|approval message>`);
});

it('Waiting on me: who asks, why (escaped), the link, and Approve / Deny carrying only the id', () => {
  const r = request({ id: 'jit-dddddddddd', reason: NASTY, approvalMessage: { channel: CHANNEL, ts: '1795444320.000200' } });
  const view = homeView(home({ userId: APPROVER, waiting: [r] }));
  const text = JSON.stringify(view);
  expect(text).toContain('Waiting on me');
  expect(text).toContain(`<@${REQUESTER}>`);
  expect(text).toContain(NASTY_ESCAPED);
  expectNoRawPing(view);
  expect(buttons(view.blocks).filter((x) => x.value === r.id).map((x) => x.action_id)).toEqual([ACTION_APPROVE, ACTION_DENY]);
});

it('a stored message ref that is not a channel and ts gives no link', () => {
  expect(all({ pending: [request({ approvalMessage: { channel: 'C1>|x', ts: '1.2' } })] })).not.toContain('approval message>');
  expect(permalink({ channel: CHANNEL, ts: '1795444320.000200' })).toBe(`https://slack.com/archives/${CHANNEL}/p1795444320000200`);
});

it('many items: each section shows its share and says how many more, and the view stays within 100 blocks', () => {
  const many = (prefix: string, status: 'ACTIVE' | 'PENDING') => Array.from({ length: 40 }, (_, i) => inStatus(status, { id: `jit-${prefix}${String(i).padStart(9, '0')}`, reason: 'x'.repeat(500) }));
  const view = homeView(home({ active: many('a', 'ACTIVE'), pending: many('p', 'PENDING'), waiting: many('w', 'PENDING'), waitingMore: true }));
  expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerModal);
  const text = JSON.stringify(view);
  expect(text).toContain(`…and ${40 - HOME_ITEMS_SHOWN.active} more`);
  expect(text).toContain(`…and ${40 - HOME_ITEMS_SHOWN.waiting}+ more`);
  for (const b of view.blocks) if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
});
