import { parseJitCommand } from '../../src/domain/command';

it.each([
  ['', { sub: 'modal' }],
  ['   ', { sub: 'modal' }],
  ['request prod-bastion 30m 203.0.113.7 investigating checkout latency', { sub: 'request', targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason: 'investigating checkout latency' }],
  ['request prod-bastion 30m investigating', { sub: 'request', targetName: 'prod-bastion', duration: '30m', reason: 'investigating' }],
  ['request prod-bastion 30m 10.0.0.0/8 x', { sub: 'request', targetName: 'prod-bastion', duration: '30m', address: '10.0.0.0/8', reason: 'x' }],
  ['request prod-bastion', { sub: 'request', targetName: 'prod-bastion' }],
  ['REQUEST a 1h ::1 r', { sub: 'request', targetName: 'a', duration: '1h', address: '::1', reason: 'r' }],
  ['request prod-admin 1h --accounts=311111111111,422222222222 incident', { sub: 'request', targetName: 'prod-admin', duration: '1h', accounts: '311111111111,422222222222', reason: 'incident' }],
  ['request prod-admin --account=311111111111 1h incident —accounts=422222222222 --break-glass', { sub: 'request', targetName: 'prod-admin', duration: '1h', accounts: '311111111111,422222222222', reason: 'incident', breakGlass: true }],
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

describe('/jit audit', () => {
  it.each([
    ['audit jit-7k3m9q2xab', { by: 'request', id: 'jit-7k3m9q2xab' }],
    ['audit jit-NOT-AN-ID', { by: 'request', id: 'jit-NOT-AN-ID' }],
    ['audit <@U0REQUESTER|alice>', { by: 'history', subject: { by: 'user', userId: 'U0REQUESTER' } }],
    ['audit <@W0ENTERPRISE>', { by: 'history', subject: { by: 'user', userId: 'W0ENTERPRISE' } }],
    ['audit prod-bastion', { by: 'history', subject: { by: 'target', name: 'prod-bastion' } }],
    ['AUDIT prod-bastion SINCE 7d', { by: 'history', subject: { by: 'target', name: 'prod-bastion' }, since: '7d' }],
    ['audit <@U0REQUESTER|alice> since 12h', { by: 'history', subject: { by: 'user', userId: 'U0REQUESTER' }, since: '12h' }],
    ['audit', { by: 'bad', problem: 'missing' }],
    ['audit <!channel>', { by: 'bad', problem: 'subject' }],
    ['audit @alice', { by: 'bad', problem: 'plain-mention' }],
    ['audit U0REQUESTER since 7d', { by: 'history', subject: { by: 'user', userId: 'U0REQUESTER' }, since: '7d' }],
    ['audit Prod-Bastion', { by: 'bad', problem: 'subject' }],
    ['audit prod-bastion since', { by: 'bad', problem: 'since-missing' }],
    ['audit prod-bastion since 7d please', { by: 'bad', problem: 'extra' }],
    ['audit prod-bastion yesterday', { by: 'bad', problem: 'extra' }],
    ['audit jit-7k3m9q2xab since 7d', { by: 'bad', problem: 'extra' }],
  ])('%j', (text, audit) => {
    expect(parseJitCommand(text)).toEqual({ sub: 'audit', audit });
  });
});
