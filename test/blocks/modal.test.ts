import type { InputBlock, PlainTextInput, StaticSelect } from '@slack/types';
import {
  ACTION_ACCOUNTS,
  ACTION_ADDRESS,
  ACTION_DURATION,
  ACTION_REASON,
  ACTION_TARGET,
  BLOCK_ACCOUNTS,
  BLOCK_ADDRESS,
  BLOCK_DURATION,
  BLOCK_REASON,
  BLOCK_TARGET,
  CALLBACK_REQUEST_MODAL,
} from '../../blocks/ids';
import { readRequestModal, REASON_MAX_LENGTH, requestModal, type ModalStateValues, noticeModal } from '../../blocks/modal';
import { LIMITS } from '../../blocks/text';
import type { Target } from '../../src/domain/types';
import { roleTarget, ssmTarget, target } from './fixtures';

const inputs = (view: ReturnType<typeof requestModal>) => view.blocks.filter((b): b is InputBlock => b.type === 'input');
const inputById = (view: ReturnType<typeof requestModal>, blockId: string) => inputs(view).find((b) => b.block_id === blockId)!;
const select = (view: ReturnType<typeof requestModal>) => inputById(view, BLOCK_TARGET).element as StaticSelect;

describe('requestModal', () => {
  const targets = [target(), target({ name: 'staging-db', port: 5432, minDurationMs: 5 * 60_000, maxDurationMs: 3_600_000 })];
  const view = requestModal(targets);

  it('is the request modal', () => {
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: CALLBACK_REQUEST_MODAL,
      title: { type: 'plain_text', text: 'Request access' },
      submit: { type: 'plain_text', text: 'Request' },
      close: { type: 'plain_text', text: 'Cancel' },
    });
    expect(view.title.text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
    expect(view.submit!.text.length).toBeLessThanOrEqual(LIMITS.modalButton);
    expect(view.close!.text.length).toBeLessThanOrEqual(LIMITS.modalButton);
  });

  it('asks for accounts (optional) only when a target on offer lists accounts to pick among, and reads them back', () => {
    expect(inputs(view).some((b) => b.block_id === BLOCK_ACCOUNTS)).toBe(false);
    const sso = { ...roleTarget(), name: 'prod-admin', kind: 'sso-permission-set', instanceArn: 'arn:aws:sso:::instance/ssoins-1111222233334444', identityStoreId: 'd-1234567890', permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd', accountIds: ['311111111111', '422222222222'], accountsPerRequest: 1 } as unknown as Target;
    const withSso = requestModal([...targets, sso]);
    const field = inputById(withSso, BLOCK_ACCOUNTS);
    expect(field).toMatchObject({ optional: true, element: { action_id: ACTION_ACCOUNTS } });
    expect(inputs(withSso).map((b) => b.block_id).indexOf(BLOCK_ACCOUNTS)).toBe(inputs(withSso).length - 2); // just before the reason
    expect(readRequestModal({ [BLOCK_ACCOUNTS]: { [ACTION_ACCOUNTS]: { type: 'plain_text_input', value: ' 311111111111 ' } } }).accounts).toBe('311111111111');
  });

  it('has the four inputs with the shared ids', () => {
    expect(inputs(view).map((b) => [b.block_id, (b.element as { action_id?: string }).action_id])).toEqual([
      [BLOCK_TARGET, ACTION_TARGET],
      [BLOCK_DURATION, ACTION_DURATION],
      [BLOCK_ADDRESS, ACTION_ADDRESS],
      [BLOCK_REASON, ACTION_REASON],
    ]);
  });

  it('offers each target by name', () => {
    const options = select(view).options!;
    expect(options.map((o) => [o.text.text, o.value])).toEqual([
      ['prod-bastion', 'prod-bastion'],
      ['staging-db', 'staging-db'],
    ]);
    expect(options[1]!.description!.text).toBe('ec2-ssh · port 5432 · 5m–1h');
    expect(select(view).initial_option).toBeUndefined();
  });

  it('describes role and SSM targets by what they grant, within the option limits', () => {
    const mixed = select(
      requestModal([
        roleTarget(),
        ssmTarget(),
        ssmTarget({ name: 'fleet', instanceIds: ['i-1', 'i-2'], nodeTags: {} }),
        ssmTarget({ name: 'one', instanceIds: ['i-1'], nodeTags: { ENV: 'dev' } }),
        ssmTarget({ name: 'long', nodeTags: { ['k'.repeat(100)]: 'v'.repeat(100) } }),
      ]),
    ).options!;
    expect(mixed.map((o) => [o.text.text, o.description!.text])).toEqual([
      ['prod-readonly', 'aws-role · temporary credentials · 15m–12h'],
      ['dev-nodes', 'ssm-session · ENV=dev · 15m–1h'],
      ['fleet', 'ssm-session · 2 nodes · 15m–1h'],
      ['one', 'ssm-session · 1 node + ENV=dev · 15m–1h'],
      ['long', expect.stringMatching(/^ssm-session · k+…$/)],
    ]);
    for (const o of mixed) expect(o.description!.text.length).toBeLessThanOrEqual(LIMITS.optionDescription);
  });

  it('pre-selects the initial target when it exists', () => {
    expect(select(requestModal(targets, { initialTarget: 'staging-db' })).initial_option).toMatchObject({ value: 'staging-db' });
    expect(select(requestModal(targets, { initialTarget: 'nope' })).initial_option).toBeUndefined();
  });

  it('has a duration placeholder, an optional address with a hint, and a bounded multiline reason', () => {
    expect((inputById(view, BLOCK_DURATION).element as PlainTextInput).placeholder).toMatchObject({ text: '30m, 1h, 1h30m' });
    const address = inputById(view, BLOCK_ADDRESS);
    expect(address.optional).toBe(true);
    expect(address.hint!.text).toMatch(/single public IP.*ec2-ssh/);
    expect(address.hint!.text).toContain('required for ec2-ssh targets; leave empty for role and SSM targets');
    expect(inputById(view, BLOCK_REASON).element).toMatchObject({ type: 'plain_text_input', multiline: true, max_length: REASON_MAX_LENGTH });
    expect(REASON_MAX_LENGTH).toBe(500);
    expect(inputById(view, BLOCK_TARGET).optional).toBeUndefined();
  });

  it('keeps to 100 options of at most 75 characters with 150 long-named targets', () => {
    const many = Array.from({ length: 150 }, (_, i) => target({ name: `target-${i}-${'x'.repeat(100)}` }));
    const big = requestModal(many);
    const options = select(big).options!;
    expect(options).toHaveLength(LIMITS.selectOptions);
    for (const o of options) {
      expect(o.text.text.length).toBeLessThanOrEqual(LIMITS.optionText);
      expect(o.description!.text.length).toBeLessThanOrEqual(LIMITS.optionText);
    }
    expect(options[0]!.value).toBe(many[0]!.name);
    expect(big.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerModal);
  });

  it('leaves out a target whose name cannot be an option value', () => {
    const options = select(requestModal([target({ name: 'z'.repeat(151) }), target()])).options!;
    expect(options.map((o) => o.value)).toEqual(['prod-bastion']);
  });

  it('without targets says so and has nothing to submit', () => {
    const empty = requestModal([]);
    expect(empty.submit).toBeUndefined();
    expect(inputs(empty)).toHaveLength(0);
    expect(JSON.stringify(empty.blocks)).toContain('No targets are configured');
  });
});

describe('readRequestModal', () => {
  const values = (v: { target?: string | null; duration?: string | null; address?: string | null; reason?: string | null }): ModalStateValues => ({
    [BLOCK_TARGET]: { [ACTION_TARGET]: { type: 'static_select', selected_option: v.target == null ? null : { value: v.target } } },
    [BLOCK_DURATION]: { [ACTION_DURATION]: { type: 'plain_text_input', value: v.duration } },
    [BLOCK_ADDRESS]: { [ACTION_ADDRESS]: { type: 'plain_text_input', value: v.address } },
    [BLOCK_REASON]: { [ACTION_REASON]: { type: 'plain_text_input', value: v.reason } },
  });

  it('reads every field by its ids, trimmed', () => {
    expect(readRequestModal(values({ target: 'prod-bastion', duration: ' 1h30m ', address: '203.0.113.7', reason: ' debugging\nlatency ' }))).toEqual({
      targetName: 'prod-bastion',
      duration: '1h30m',
      address: '203.0.113.7',
      reason: 'debugging\nlatency',
    });
  });

  it('returns undefined for empty, blank, null or missing answers', () => {
    const read = readRequestModal(values({ target: null, duration: '   ', address: null, reason: '' }));
    expect(read).toEqual({ targetName: undefined, duration: undefined, address: undefined, reason: undefined });
    expect(readRequestModal({})).toEqual({});
  });

  it('round-trips the option value the modal offers', () => {
    const option = select(requestModal([target({ name: 'prod-bastion' })])).options![0]!;
    expect(readRequestModal(values({ target: option.value!, duration: '30m', reason: 'x' })).targetName).toBe('prod-bastion');
  });
});

describe('noticeModal', () => {
  it('a read-only window (no submit, no callback) with the words escaped', () => {
    const view = noticeModal('Request access', 'No <!channel> & no form');
    expect(view).toMatchObject({ type: 'modal', title: { text: 'Request access' }, close: { text: 'Close' } });
    expect(view.submit).toBeUndefined();
    expect(view.callback_id).toBeUndefined();
    expect(JSON.stringify(view.blocks)).toContain('No &lt;!channel&gt; &amp; no form');
  });
});
