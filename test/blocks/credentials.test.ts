import type { SectionBlock } from '@slack/types';
import { credentialsModal, CredentialsDisplayError, credentialsProfile } from '../../blocks/credentials';
import { CALLBACK_CREDENTIALS_MODAL } from '../../blocks/ids';
import { LIMITS } from '../../blocks/text';
import { ASSUMED_ROLE_ARN, credentials, expectBlocksWithinLimits, expectNoRawPing, NASTY, roleRequest, ssmRequest, textObjects } from './fixtures';

type Modal = ReturnType<typeof credentialsModal>;

const sections = (view: Modal) => view.blocks.filter((b): b is SectionBlock => b.type === 'section');
/** Every line inside a ``` code block of the modal, fences removed. */
const codeLines = (view: Modal): string[] =>
  sections(view).flatMap((s) => [...(s.text?.text ?? '').matchAll(/```([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n')));
const allText = (view: Modal) => textObjects(view.blocks).map((t) => t.text).join('\n');

function expectWithinModalLimits(view: Modal): void {
  expect(view.title.text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
  expect(view.close!.text.length).toBeLessThanOrEqual(LIMITS.modalButton);
  expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerModal);
  expectBlocksWithinLimits(view.blocks as Parameters<typeof expectBlocksWithinLimits>[0]);
  for (const t of textObjects(view)) expect(t.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
}

describe('credentialsModal', () => {
  const r = roleRequest('ACTIVE');
  const creds = credentials(1_200);
  const view = credentialsModal(r, creds);

  it('is a read-only modal titled "AWS credentials" with a Done button', () => {
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: CALLBACK_CREDENTIALS_MODAL,
      title: { type: 'plain_text', text: 'AWS credentials' },
      close: { type: 'plain_text', text: 'Done' },
    });
    expect(view.submit).toBeUndefined();
    expect(view.blocks.some((b) => b.type === 'input')).toBe(false);
  });

  it('has the four export lines, exact and whole', () => {
    const lines = codeLines(view);
    expect(lines).toContain(`export AWS_ACCESS_KEY_ID=${creds.accessKeyId}`);
    expect(lines).toContain(`export AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey}`);
    expect(lines).toContain(`export AWS_SESSION_TOKEN=${creds.sessionToken}`);
    expect(lines).toContain('export AWS_REGION=eu-west-1');
    expect(creds.sessionToken).toHaveLength(1_200);
  });

  it('has a credentials-file profile named after the request', () => {
    const lines = codeLines(view);
    const start = lines.indexOf('[jit-prod-readonly]');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(lines.slice(start + 1, start + 4)).toEqual([
      `aws_access_key_id = ${creds.accessKeyId}`,
      `aws_secret_access_key = ${creds.secretAccessKey}`,
      `aws_session_token = ${creds.sessionToken}`,
    ]);
    expect(allText(view)).toContain('`--profile jit-prod-readonly --region eu-west-1`');
  });

  it('says when the credentials expire and which role session they are', () => {
    const text = allText(view);
    expect(text).toMatch(/Expires <!date\^\d+\^[^|]+\|10:36 UTC>/);
    expect(text).toContain(`\`${ASSUMED_ROLE_ARN}\``);
  });

  it('keeps every text within Slack limits', () => {
    expectWithinModalLimits(view);
  });

  it('works the same for an ssm-session request', () => {
    const ssm = credentialsModal(ssmRequest('ACTIVE'), creds);
    expect(codeLines(ssm)).toContain(`export AWS_SESSION_TOKEN=${creds.sessionToken}`);
    expect(codeLines(ssm)).toContain('[jit-dev-nodes]');
    expectWithinModalLimits(ssm);
  });

  it.each([2_900, 2_949])('splits a %d-character session token into more sections but never cuts it', (length) => {
    const big = credentials(length);
    const split = credentialsModal(r, big);
    expectWithinModalLimits(split);
    expect(codeLines(split)).toContain(`export AWS_SESSION_TOKEN=${big.sessionToken}`);
    expect(codeLines(split)).toContain(`aws_session_token = ${big.sessionToken}`);
    expect(codeLines(split)).toContain('export AWS_REGION=eu-west-1');
    expect(sections(split).length).toBeGreaterThan(sections(view).length);
    expect(JSON.stringify(split)).not.toContain('…');
  });

  it('throws rather than cut a session token that cannot fit one section', () => {
    expect(() => credentialsModal(r, credentials(2_950))).toThrow(CredentialsDisplayError);
    expect(() => credentialsModal(r, credentials(10_000))).toThrow(/too long/);
  });

  it('throws rather than show a credential that would break its code block', () => {
    expect(() => credentialsModal(r, credentials(100, { sessionToken: 'abc`def' }))).toThrow(CredentialsDisplayError);
    expect(() => credentialsModal(r, credentials(100, { secretAccessKey: 'abc def' }))).toThrow(CredentialsDisplayError);
    expect(() => credentialsModal(r, credentials(100, { accessKeyId: '' }))).toThrow(CredentialsDisplayError);
  });

  it('escapes the target name and keeps the profile name safe', () => {
    const nasty = credentialsModal(roleRequest('ACTIVE', { targetName: NASTY }), creds);
    expectNoRawPing(nasty);
    expect(codeLines(nasty)).toContain('[jit-channel-hi-U123-co]');
  });
});

describe('credentialsProfile', () => {
  it.each([
    ['prod-readonly', 'jit-prod-readonly'],
    ['Prod Admin (EU)', 'jit-Prod-Admin-EU'],
    ['x]\n[default', 'jit-x-default'],
    ['***', 'jit-access'],
    ['a'.repeat(200), `jit-${'a'.repeat(60)}`],
  ])('%j → %s', (name, profile) => {
    expect(credentialsProfile({ targetName: name })).toBe(profile);
  });
});
