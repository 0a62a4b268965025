/**
 * Matching for policy rules: target-name patterns, tag selectors, principals and weekly time
 * windows. Pure functions; the clock and the caller's groups are passed in.
 */
import type { Principals, RuleMatch, Target, TimeWindow, Weekday } from './types';

/** `prod-*` style patterns: `*` matches any run of characters, everything else is literal. */
export function nameMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(name);
}

/** Every selector tag is on the target with the same value (tag names and values are case-sensitive). */
export function tagsMatch(selector: Readonly<Record<string, string>>, tags: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => tags[k] === v);
}

/** The user is named, or is in one of the named groups (`userGroups`: the user's groups, resolved). */
export function isIn(p: Principals, userId: string, userGroups: ReadonlySet<string>): boolean {
  return p.everyone === true || p.users.includes(userId) || p.groups.some((g) => userGroups.has(g));
}

const DAY_INDEX: Record<string, Weekday> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };
const ORDER: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** The weekday and minute of the day at `now` in `timezone`. */
export function localTime(now: Date, timezone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: DAY_INDEX[get('weekday')] ?? 'mon', minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/**
 * True when `now` falls in the window. `from` is inclusive, `to` exclusive; a window whose `to`
 * is not after `from` runs overnight and belongs to the day it starts on (fri 18:00–08:00 covers
 * Friday evening and Saturday morning).
 */
export function inWindow(w: TimeWindow, now: Date): boolean {
  const { day, minute } = localTime(now, w.timezone);
  const from = minutes(w.from);
  const to = minutes(w.to);
  if (from < to) return w.days.includes(day) && minute >= from && minute < to;
  const yesterday = ORDER[(ORDER.indexOf(day) + 6) % 7]!;
  return (w.days.includes(day) && minute >= from) || (w.days.includes(yesterday) && minute < to);
}

/** Why a rule does or does not match, condition by condition (for the reasons of a decision). */
export function ruleMatches(rule: RuleMatch, target: Target, requesterId: string, requesterGroups: ReadonlySet<string>, now: Date): { matches: boolean; misses: string[] } {
  const misses: string[] = [];
  if (rule.targets && !rule.targets.some((p) => nameMatches(p, target.name))) misses.push(`target ${target.name} is not in ${rule.targets.join(', ')}`);
  if (rule.tags && !tagsMatch(rule.tags, target.tags)) misses.push(`target tags do not include ${formatTags(rule.tags)}`);
  if (rule.requesters && !isIn(rule.requesters, requesterId, requesterGroups)) misses.push('the requester is not among its requesters');
  if (rule.window && !inWindow(rule.window, now)) misses.push(`outside its window (${formatWindow(rule.window)})`);
  return { matches: misses.length === 0, misses };
}

export function formatTags(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export function formatWindow(w: TimeWindow): string {
  const days = w.days.length === 7 ? 'every day' : w.days.join(',');
  return `${days} ${w.from}–${w.to} ${w.timezone}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
