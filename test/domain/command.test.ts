import { parseJitCommand } from '../../src/domain/command';

it.each([
  ['', { sub: 'modal' }],
  ['   ', { sub: 'modal' }],
  ['request prod-bastion 30m 203.0.113.7 investigating checkout latency', { sub: 'request', targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason: 'investigating checkout latency' }],
  ['request prod-bastion 30m investigating', { sub: 'request', targetName: 'prod-bastion', duration: '30m', reason: 'investigating' }],
  ['request prod-bastion 30m 10.0.0.0/8 x', { sub: 'request', targetName: 'prod-bastion', duration: '30m', address: '10.0.0.0/8', reason: 'x' }],
  ['request prod-bastion', { sub: 'request', targetName: 'prod-bastion' }],
  ['REQUEST a 1h ::1 r', { sub: 'request', targetName: 'a', duration: '1h', address: '::1', reason: 'r' }],
  ['list', { sub: 'list' }],
  ['revoke jit-abc', { sub: 'revoke', id: 'jit-abc' }],
  ['revoke', { sub: 'revoke' }],
  ['targets', { sub: 'targets' }],
  ['help', { sub: 'help' }],
  ['doctor', { sub: 'doctor' }],
  ['  Doctor  ', { sub: 'doctor' }],
  ['approve jit-1', { sub: 'unknown', word: 'approve' }],
])('%j', (text, expected) => {
  expect(parseJitCommand(text)).toEqual(expected);
});
