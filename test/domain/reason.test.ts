import { compileReasonRule, reasonMatches, reasonPatternProblem, ticketOf, ticketUrlProblem } from '../../src/domain/reason';

const rule = (pattern: string, ticketUrl?: string) => compileReasonRule({ pattern, message: 'Start with a ticket key such as OPS-123', ...(ticketUrl ? { ticketUrl } : {}) });

describe('reasonPatternProblem', () => {
  it.each(['^[A-Z]+-[0-9]+', '^(OPS|SEC)-\\d+ ', '(?<key>[A-Z]{2,10}-\\d{1,6})', '^INC\\d{7}\\b', '[\\w.]+@example\\.com', '^(?:CHG|INC)[0-9]{7}'])('accepts %s', (p) => {
    expect(reasonPatternProblem(p)).toBeUndefined();
  });

  it('refuses a pattern that does not compile, saying why', () => {
    expect(reasonPatternProblem('^[A-Z+')).toMatch(/^is not a valid regular expression \(/);
  });

  it.each(['(a+)+$', '(\\w*)*x', '(a|ab)+', '^([A-Z]+-?)*$', '((ab)*c)+', '(x{2,})+', '([a-z]+\\s?)+$'])('refuses the nested repeat in %s', (p) => {
    expect(reasonPatternProblem(p)).toMatch(/exponential time/);
  });

  it('refuses a pattern longer than 200 characters', () => {
    expect(reasonPatternProblem('a'.repeat(201))).toMatch(/longer than 200/);
  });
});

describe('ticketUrlProblem', () => {
  it.each(['https://jira.example.com/browse/{key}', 'https://tickets.example.com/t?id={key}&view=1'])('accepts %s', (u) => expect(ticketUrlProblem(u)).toBeUndefined());
  it.each([
    ['http://jira.example.com/browse/{key}', /https/],
    ['javascript:alert(1)//{key}', /https/],
    ['https://jira.example.com/browse/', /\{key\}/],
    ['https://jira.example.com/browse/{key}|x', /<, > or \|/],
    ['https://jira.example.com/a b/{key}', /spaces/],
    ['not a url {key}', /spaces/],
    ['{key}', /https URL/],
  ])('refuses %s', (u, why) => expect(ticketUrlProblem(u)).toMatch(why));
});

describe('reasonMatches and ticketOf', () => {
  it('matches anywhere unless anchored, statelessly', () => {
    const r = rule('^[A-Z]+-[0-9]+');
    expect(reasonMatches(r, 'OPS-123 restart the worker')).toBe(true);
    expect(reasonMatches(r, 'OPS-123 restart the worker')).toBe(true);
    expect(reasonMatches(r, 'restart OPS-123')).toBe(false);
    expect(reasonMatches(rule('[A-Z]+-[0-9]+'), 'restart OPS-123')).toBe(true);
  });

  it('the key is the first match, URL-encoded into the link', () => {
    expect(ticketOf(rule('[A-Z]+-[0-9]+', 'https://jira.example.com/browse/{key}'), 'for OPS-123 and SEC-9')).toEqual({ key: 'OPS-123', url: 'https://jira.example.com/browse/OPS-123' });
    expect(ticketOf(rule('^\\S+', 'https://t.example.com/{key}?x={key}'), 'a&b<c>|d/e rest')).toEqual({ key: 'a&b<c>|d/e', url: 'https://t.example.com/a%26b%3Cc%3E%7Cd%2Fe?x=a%26b%3Cc%3E%7Cd%2Fe' });
  });

  it('a group named key wins over the whole match, and is recorded even without a ticketUrl', () => {
    expect(ticketOf(rule('^ticket (?<key>[A-Z]+-\\d+):', 'https://jira.example.com/browse/{key}'), 'ticket OPS-7: disk full')).toEqual({ key: 'OPS-7', url: 'https://jira.example.com/browse/OPS-7' });
    expect(ticketOf(rule('(?<key>[A-Z]+-\\d+)'), 'see OPS-7')).toEqual({ key: 'OPS-7' });
  });

  it('names no ticket without a ticketUrl or key group, without a rule, or without a match', () => {
    expect(ticketOf(rule('^[A-Z]+-[0-9]+'), 'OPS-1 x')).toBeUndefined();
    expect(ticketOf(undefined, 'OPS-1 x')).toBeUndefined();
    expect(ticketOf(rule('^[A-Z]+-[0-9]+', 'https://j.example.com/{key}'), 'nothing')).toBeUndefined();
  });
});
