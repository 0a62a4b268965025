import { formatTags, formatWindow, inWindow, isIn, localTime, nameMatches, ruleMatches, tagsMatch } from '../../src/domain/match';
import type { TimeWindow } from '../../src/domain/types';
import { ec2Target } from '../support/requests';

describe('nameMatches', () => {
  it.each<[string, string, boolean]>([
    ['prod-bastion', 'prod-bastion', true],
    ['prod-bastion', 'prod-bastion2', false],
    ['prod-bastion', 'xprod-bastion', false],
    ['prod-*', 'prod-bastion', true],
    ['prod-*', 'prod-', true],
    ['prod-*', 'staging-prod-db', false],
    ['*-db', 'staging-db', true],
    ['*-db', 'staging-db-replica', false],
    ['*', 'anything', true],
    ['prod-*-db', 'prod-eu-db', true],
    ['prod-*-db', 'prod-db', false],
    ['*prod*', 'my-prod-box', true],
    // Everything but * is literal: "." is not "any character".
    ['prod.bastion', 'prodxbastion', false],
    ['prod.*', 'prod.eu', true],
    ['prod.*', 'prodxeu', false],
  ])('%s vs %s → %s', (pattern, name, expected) => {
    expect(nameMatches(pattern, name)).toBe(expected);
  });
});

describe('tagsMatch', () => {
  const tags = { ENV: 'prod', team: 'payments' };
  it.each<[string, Record<string, string>, boolean]>([
    ['empty selector matches anything', {}, true],
    ['one matching tag', { ENV: 'prod' }, true],
    ['all selector tags present', { ENV: 'prod', team: 'payments' }, true],
    ['a different value', { ENV: 'dev' }, false],
    ['a missing tag', { owner: 'x' }, false],
    ['one of two matching is not enough', { ENV: 'prod', team: 'search' }, false],
    ['values are case-sensitive', { ENV: 'Prod' }, false],
    ['names are case-sensitive', { env: 'prod' }, false],
  ])('%s', (_name, selector, expected) => {
    expect(tagsMatch(selector, tags)).toBe(expected);
  });

  it('a target without tags matches only the empty selector', () => {
    expect(tagsMatch({}, {})).toBe(true);
    expect(tagsMatch({ ENV: 'prod' }, {})).toBe(false);
  });
});

describe('isIn', () => {
  const p = { users: ['U0ALICE'], groups: ['S0ONCALL'] };
  it.each<[string, string, string[], boolean]>([
    ['named user', 'U0ALICE', [], true],
    ['member of a named group', 'U0BOB', ['S0ONCALL'], true],
    ['member of another group', 'U0BOB', ['S0OTHER'], false],
    ['neither', 'U0BOB', [], false],
  ])('%s', (_name, user, groups, expected) => {
    expect(isIn(p, user, new Set(groups))).toBe(expected);
  });

  it('nobody is in empty principals', () => {
    expect(isIn({ users: [], groups: [] }, 'U0ALICE', new Set(['S0ONCALL']))).toBe(false);
  });
});

describe('localTime', () => {
  it('gives the weekday and minute in the zone, midnight as 0', () => {
    expect(localTime(new Date('2026-11-20T00:00:00Z'), 'UTC')).toEqual({ day: 'fri', minute: 0 });
    expect(localTime(new Date('2026-11-20T23:59:00Z'), 'UTC')).toEqual({ day: 'fri', minute: 23 * 60 + 59 });
    // Friday 23:30 UTC is already Saturday 08:30 in Tokyo.
    expect(localTime(new Date('2026-11-20T23:30:00Z'), 'Asia/Tokyo')).toEqual({ day: 'sat', minute: 8 * 60 + 30 });
  });
});

describe('inWindow', () => {
  const w = (from: string, to: string, days: TimeWindow['days'] = ['mon', 'tue', 'wed', 'thu', 'fri'], timezone = 'UTC'): TimeWindow => ({ days, from, to, timezone });

  // 2026-11-16 is a Monday; 2026-11-20 a Friday, 2026-11-21 a Saturday, 2026-11-22 a Sunday.
  it.each<[string, TimeWindow, string, boolean]>([
    ['same-day: at the start (from is inclusive)', w('09:00', '17:00'), '2026-11-16T09:00:00Z', true],
    ['same-day: inside', w('09:00', '17:00'), '2026-11-16T12:30:00Z', true],
    ['same-day: a minute before', w('09:00', '17:00'), '2026-11-16T08:59:00Z', false],
    ['same-day: at the end (to is exclusive)', w('09:00', '17:00'), '2026-11-16T17:00:00Z', false],
    ['same-day: last minute', w('09:00', '17:00'), '2026-11-16T16:59:59Z', true],
    ['same-day: right hours, wrong day', w('09:00', '17:00'), '2026-11-21T12:00:00Z', false],
    ['overnight: the evening of a listed day', w('18:00', '08:00', ['fri']), '2026-11-20T22:00:00Z', true],
    ['overnight: the next morning belongs to the start day', w('18:00', '08:00', ['fri']), '2026-11-21T07:59:00Z', true],
    ['overnight: ends at to on the next day', w('18:00', '08:00', ['fri']), '2026-11-21T08:00:00Z', false],
    ['overnight: the evening of the next day is not in it', w('18:00', '08:00', ['fri']), '2026-11-21T19:00:00Z', false],
    ['overnight: the morning of the start day is not in it', w('18:00', '08:00', ['fri']), '2026-11-20T07:00:00Z', false],
    ['overnight: a Sunday start runs into Monday', w('22:00', '06:00', ['sun']), '2026-11-23T05:00:00Z', true],
    ['overnight: Monday morning after an unlisted Sunday', w('22:00', '06:00', ['mon']), '2026-11-16T05:00:00Z', false],
    ['to 24:00: the last minute of the day is in', w('18:00', '24:00', ['fri']), '2026-11-20T23:59:00Z', true],
    ['to 24:00: midnight is the next day, out', w('18:00', '24:00', ['fri']), '2026-11-21T00:00:00Z', false],
    ['00:00–24:00: the whole listed day', w('00:00', '24:00', ['sat', 'sun']), '2026-11-21T00:00:00Z', true],
    ['00:00–24:00: not another day', w('00:00', '24:00', ['sat', 'sun']), '2026-11-20T23:59:00Z', false],
    ['from = to: a 24-hour window from its start', w('12:00', '12:00', ['fri']), '2026-11-21T11:59:00Z', true],
    ['from = to: ends 24 hours later', w('12:00', '12:00', ['fri']), '2026-11-21T12:00:00Z', false],
  ])('%s', (_name, window, at, expected) => {
    expect(inWindow(window, new Date(at))).toBe(expected);
  });

  describe('time zones', () => {
    const tokyo = w('09:00', '17:00', ['mon'], 'Asia/Tokyo');
    it('reads the day and hour in the window’s zone, not UTC', () => {
      // Sunday 2026-11-22 23:30 UTC is Monday 08:30 in Tokyo; 00:30 UTC is Monday 09:30.
      expect(inWindow(tokyo, new Date('2026-11-22T23:30:00Z'))).toBe(false);
      expect(inWindow(tokyo, new Date('2026-11-23T00:30:00Z'))).toBe(true);
      // Monday 12:00 UTC is Monday 21:00 in Tokyo: outside, although it is Monday working hours in UTC.
      expect(inWindow(tokyo, new Date('2026-11-23T12:00:00Z'))).toBe(false);
    });

    it('follows daylight saving time (America/New_York: EST until 2026-03-08, EDT after)', () => {
      const ny = w('09:00', '17:00', ['mon'], 'America/New_York');
      // Monday 2026-03-02, EST (UTC-5): 09:00 local is 14:00 UTC.
      expect(inWindow(ny, new Date('2026-03-02T13:59:00Z'))).toBe(false);
      expect(inWindow(ny, new Date('2026-03-02T14:00:00Z'))).toBe(true);
      // Monday 2026-03-09, EDT (UTC-4): 09:00 local is 13:00 UTC.
      expect(inWindow(ny, new Date('2026-03-09T12:59:00Z'))).toBe(false);
      expect(inWindow(ny, new Date('2026-03-09T13:00:00Z'))).toBe(true);
      expect(inWindow(ny, new Date('2026-03-09T20:59:00Z'))).toBe(true);
      expect(inWindow(ny, new Date('2026-03-09T21:00:00Z'))).toBe(false);
    });

    it('follows Europe/London into summer time for an overnight window', () => {
      const london = w('22:00', '06:00', ['sat'], 'Europe/London');
      // Clocks go forward on Sunday 2026-03-29 at 01:00 UTC; 05:30 UTC is 06:30 BST: outside.
      expect(inWindow(london, new Date('2026-03-29T04:59:00Z'))).toBe(true);
      expect(inWindow(london, new Date('2026-03-29T05:30:00Z'))).toBe(false);
      // The same UTC time a week earlier (GMT) is 05:30 local: inside.
      expect(inWindow(london, new Date('2026-03-22T05:30:00Z'))).toBe(true);
    });
  });
});

describe('ruleMatches', () => {
  const target = ec2Target({ name: 'prod-db', tags: { ENV: 'prod' } });
  const now = new Date('2026-11-20T12:00:00Z');

  it('needs every given condition, and names each one that misses', () => {
    const all = { targets: ['prod-*'], tags: { ENV: 'prod' }, requesters: { users: ['U0ALICE'], groups: [] }, window: { days: ['fri' as const], from: '09:00', to: '17:00', timezone: 'UTC' } };
    expect(ruleMatches(all, target, 'U0ALICE', new Set(), now)).toEqual({ matches: true, misses: [] });
    const m = ruleMatches({ ...all, targets: ['staging-*'], tags: { ENV: 'dev' } }, target, 'U0BOB', new Set(), new Date('2026-11-21T12:00:00Z'));
    expect(m.matches).toBe(false);
    expect(m.misses).toEqual([
      'target prod-db is not in staging-*',
      'target tags do not include ENV=dev',
      'the requester is not among its requesters',
      'outside its window (fri 09:00–17:00 UTC)',
    ]);
  });

  it('a rule with no conditions matches everything (config refuses such deny rules)', () => {
    expect(ruleMatches({}, target, 'U0ANYONE', new Set(), now).matches).toBe(true);
  });
});

it('formats tags and windows for messages', () => {
  expect(formatTags({ ENV: 'prod', team: 'x' })).toBe('ENV=prod, team=x');
  expect(formatWindow({ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '06:00', timezone: 'Europe/London' })).toBe('every day 00:00–06:00 Europe/London');
});
