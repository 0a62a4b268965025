import {
  channelLink,
  code,
  escaped,
  escapeText,
  typedText,
  groupMention,
  LIMITS,
  mention,
  oneLine,
  slackDate,
  truncate,
  truncateMrkdwn,
  UNKNOWN_TIME,
  utcDateTime,
  utcTime,
} from '../../blocks/text';
import { NASTY, NASTY_ESCAPED } from './fixtures';

describe('escapeText', () => {
  it('escapes &, < and > so mentions render literally', () => {
    expect(escapeText(NASTY)).toBe(NASTY_ESCAPED);
  });

  it('leaves other characters, backticks included, alone', () => {
    expect(escapeText('run `ssh` *now* "quoted"')).toBe('run `ssh` *now* "quoted"');
  });

  it('escapes an already escaped entity again (it is shown as typed)', () => {
    expect(escapeText('&amp;')).toBe('&amp;amp;');
  });
});

describe('truncate', () => {
  it('returns short text unchanged', () => {
    expect(truncate('hello', 5)).toBe('hello');
  });

  it('cuts to exactly max characters ending in an ellipsis', () => {
    const out = truncate('abcdefghij', 5);
    expect(out).toBe('abcd…');
    expect(out).toHaveLength(5);
  });

  it('never splits a surrogate pair', () => {
    const out = truncate('ab😀cdef', 4);
    expect(out).toBe('ab…');
    expect(out.length).toBeLessThanOrEqual(4);
  });

  it('handles a zero budget', () => {
    expect(truncate('abc', 0)).toBe('');
  });
});

describe('truncateMrkdwn / escaped', () => {
  it('does not leave a partial entity behind', () => {
    const out = escaped('a&b', 5); // "a&amp;b" cut at 5 would end in "a&am"
    expect(out).toBe('a…');
  });

  it('does not leave an unclosed token behind', () => {
    const out = truncateMrkdwn('ended at <!date^1795444320^{time}|14:32 UTC>', 20);
    expect(out).toBe('ended at …');
  });

  it('escapes before measuring, so the result stays within max', () => {
    const out = escaped('<'.repeat(1000), 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).not.toContain('<');
    expect(out.endsWith('&lt;…')).toBe(true);
  });

  it('wraps code and replaces backticks that would end the span', () => {
    expect(code('a`b<c>')).toBe("`a'b&lt;c&gt;`");
  });
});

describe('mention / channelLink', () => {
  it('mentions Slack user ids', () => {
    expect(mention('U0APPROVER')).toBe('<@U0APPROVER>');
    expect(mention('W123ABC')).toBe('<@W123ABC>');
  });

  it('shows anything else as escaped text', () => {
    expect(mention('system')).toBe('system');
    expect(mention('<!channel>')).toBe('&lt;!channel&gt;');
  });

  it('links channel ids only', () => {
    expect(channelLink('C0APPROVERS')).toBe('<#C0APPROVERS>');
    expect(channelLink('<!here>')).toBe('&lt;!here&gt;');
  });
});

describe('time helpers', () => {
  it('utcTime gives HH:MM UTC', () => {
    expect(utcTime('2026-11-22T14:32:59.000Z')).toBe('14:32 UTC');
  });

  it('utcTime adds the date when not the reference day', () => {
    expect(utcTime('2026-11-22T14:32:00.000Z', '2026-11-22T01:00:00.000Z')).toBe('14:32 UTC');
    expect(utcTime('2026-11-23T00:10:00.000Z', '2026-11-22T23:50:00.000Z')).toBe('2026-11-23 00:10 UTC');
  });

  it('utcDateTime always has the date', () => {
    expect(utcDateTime('2026-11-22T14:32:00.000Z')).toBe('2026-11-22 14:32 UTC');
  });

  it('slackDate builds a date token with a UTC fallback', () => {
    const iso = '2026-11-22T14:32:00.000Z';
    const epoch = Date.parse(iso) / 1000;
    expect(slackDate(iso)).toBe(`<!date^${epoch}^{date_short_pretty} {time}|2026-11-22 14:32 UTC>`);
    expect(slackDate(iso, utcTime(iso))).toBe(`<!date^${epoch}^{date_short_pretty} {time}|14:32 UTC>`);
  });

  it('keeps the fallback from breaking the token', () => {
    expect(slackDate('2026-11-22T14:32:00.000Z', 'a|b>c')).toMatch(/\|a\/b&gt;c>$/);
  });

  it('says so for an invalid time instead of printing it', () => {
    expect(utcTime('not a date')).toBe(UNKNOWN_TIME);
    expect(slackDate('<!channel>')).toBe(UNKNOWN_TIME);
  });
});

describe('LIMITS', () => {
  it('holds the limits the builders rely on', () => {
    expect(LIMITS).toMatchObject({
      messageText: 40_000,
      fallbackText: 3_000,
      sectionText: 3_000,
      headerText: 150,
      buttonText: 75,
      buttonValue: 2_000,
      optionText: 75,
      contextText: 2_000,
      modalTitle: 24,
      modalButton: 24,
      blocksPerMessage: 50,
      blocksPerModal: 100,
      selectOptions: 100,
      sectionFields: 10,
      sectionFieldText: 2_000,
    });
  });
});

describe('groupMention / oneLine', () => {
  it('mentions Slack user-group ids, and shows anything else as escaped text', () => {
    expect(groupMention('S0ONCALL')).toBe('<!subteam^S0ONCALL>');
    expect(groupMention('<!here>')).toBe('&lt;!here&gt;');
    expect(groupMention('dba-team')).toBe('dba-team');
    expect(groupMention('U0APPROVER')).toBe('U0APPROVER');
  });

  it('puts text on one line', () => {
    expect(oneLine('  a\n\n b\t c  ')).toBe('a b c');
  });
});

describe('typedText (a slash command as the person typed it)', () => {
  it('turns the entities Slack sends back into the characters typed, once', () => {
    expect(typedText('fix A&amp;B &lt;now&gt;')).toBe('fix A&B <now>');
    expect(typedText('literally &amp;lt; typed')).toBe('literally &lt; typed');
    expect(typedText('no entities & <@U0BOB|bob>')).toBe('no entities & <@U0BOB|bob>');
  });

  it('round-trips escapeText', () => {
    expect(typedText(escapeText(NASTY))).toBe(NASTY);
  });
});
