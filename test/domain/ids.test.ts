/** The one request-id format: what is made matches, and nothing else does. */
import { isRequestId, newRequestId, REQUEST_ID_LENGTH, REQUEST_ID_PATTERN } from '../../src/domain/ids';

it('every new id is a request id (and ids differ)', () => {
  const ids = Array.from({ length: 500 }, newRequestId);
  for (const id of ids) {
    expect(id).toHaveLength(REQUEST_ID_LENGTH);
    expect(isRequestId(id)).toBe(true);
  }
  expect(new Set(ids).size).toBe(ids.length);
});

it('uses the Crockford alphabet only (no i, l, o, u)', () => {
  const chars = new Set(Array.from({ length: 500 }, () => newRequestId().slice(4)).join(''));
  for (const c of 'ilou') expect(chars.has(c)).toBe(false);
});

it.each([
  ['empty', ''],
  ['the prefix alone', 'jit-'],
  ['one short', 'jit-7k3m9q2xa'],
  ['one long', 'jit-7k3m9q2xab0'],
  ['upper case', 'JIT-7K3M9Q2XAB'],
  ['a letter outside the alphabet', 'jit-7k3m9q2xal'],
  ['a Cyrillic lookalike', 'jit-7k3m9q2x\u0430b'],
  ['a trailing newline', 'jit-7k3m9q2xab\n'],
  ['leading space', ' jit-7k3m9q2xab'],
  ['a mention', '<@U0123>'],
  ['3,000 characters', `jit-${'a'.repeat(2_996)}`],
])('refuses %s', (_name, value) => {
  expect(isRequestId(value)).toBe(false);
});

it('refuses what is not a string', () => {
  for (const v of [undefined, null, 42, { id: 'jit-7k3m9q2xab' }, ['jit-7k3m9q2xab']]) expect(isRequestId(v)).toBe(false);
});

it('accepts a well-formed id', () => {
  expect(isRequestId('jit-7k3m9q2xab')).toBe(true);
  expect(REQUEST_ID_PATTERN.test('jit-7k3m9q2xab')).toBe(true);
});
