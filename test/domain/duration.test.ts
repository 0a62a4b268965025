import { formatDuration, parseDuration, parseIsoDuration } from '../../src/domain/duration';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h 30m', 5_400_000],
    [' 45M ', 2_700_000],
    ['1h0m', 3_600_000],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '30', 'm', '30x', '1.5h', '-5m', '30m1h', '5m5m', '0m', 'soon', '1h30', 'h1'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [5_400_000, '1h30m'],
    [90_000, '1m30s'],
    [86_400_000, '1d'],
    [0, '0s'],
    [1_499, '1s'],
  ])('%d → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('round-trips', () => {
    for (const text of ['1h30m', '15m', '1d2h3m4s']) expect(formatDuration(parseDuration(text)!)).toBe(text);
  });
});

describe('parseIsoDuration', () => {
  it('reads the hours, minutes and seconds of a session duration as AWS writes it', () => {
    expect(parseIsoDuration('PT1H')).toBe(3_600_000);
    expect(parseIsoDuration('PT8H30M')).toBe(8.5 * 3_600_000);
    expect(parseIsoDuration('PT900S')).toBe(900_000);
  });
  it('is undefined for anything else', () => {
    for (const text of [undefined, '', 'PT', 'P1D', '1h', 'PT1.5H', 'pt1h']) expect(parseIsoDuration(text)).toBeUndefined();
  });
});
