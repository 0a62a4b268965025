/**
 * Durations as people type them: "90s", "15m", "1h30m", "2h", "1d". Units must be in
 * descending order and each at most once; the result is in milliseconds.
 */
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
type Unit = keyof typeof UNIT_MS;
const ORDER: Unit[] = ['d', 'h', 'm', 's'];

const PART = /\s*(\d{1,6})\s*(d|h|m|s)/gy;

/** Parses a duration; returns undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const input = text.trim().toLowerCase();
  if (input === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let lastUnit = -1;
  let consumed = 0;
  for (let m = PART.exec(input); m; m = PART.exec(input)) {
    const unitIndex = ORDER.indexOf(m[2] as Unit);
    if (unitIndex <= lastUnit) return undefined; // "30m1h" or "5m5m"
    lastUnit = unitIndex;
    total += Number(m[1]) * UNIT_MS[m[2] as Unit];
    consumed = PART.lastIndex;
  }
  if (consumed !== input.length || total <= 0) return undefined;
  return total;
}

/** Formats milliseconds compactly: 5400000 → "1h30m", 90000 → "1m30s". */
/**
 * An ISO 8601 duration of hours, minutes and seconds as AWS writes a session duration ("PT1H",
 * "PT8H30M", "PT900S"), in ms; undefined for anything else.
 */
export function parseIsoDuration(text: string | undefined): number | undefined {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(text ?? '');
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return undefined;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms / 1000) * 1000;
  let out = '';
  for (const unit of ORDER) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out || '0s';
}
