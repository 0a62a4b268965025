/**
 * service.home: what the App Home shows, decided by the core against the real store (embedded
 * dynalite): the user's own grants and pending requests, and the pending requests of others they
 * may decide, found on the due index (never a scan) among active grants that are on it too.
 */
import pino from 'pino';
import { parseConfig } from '../../src/config';
import type { AccessRequest } from '../../src/domain/types';
import { AccessService } from '../../src/service';
import { HOME_WAITING_MAX } from '../../src/service/queries';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { FakeClock } from '../support/clock';
import { pendingRequest } from '../support/requests';
import { useEmbeddedDynamo } from '../support/store';

const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, region: eu-west-1 }
  - { name: db, kind: ec2-ssh, securityGroupId: sg-0fedcba9876543210, approvers: { users: [U0DBA] }, approvalTimeout: 2h }
`);
const MIN = 60_000;
const dynamo = useEmbeddedDynamo();
let store: DynamoRequestStore;
let clock: FakeClock;
let service: AccessService;
let table = 0;

beforeEach(async () => {
  store = await dynamo.newStore(`home${++table}`);
  clock = new FakeClock();
  service = new AccessService({ config, store, providers: {}, clock, log: pino({ level: 'silent' }), owner: 'a' });
});

async function put(overrides: Partial<AccessRequest>): Promise<AccessRequest> {
  const createdAt = clock.now().toISOString();
  const r = pendingRequest({ createdAt, approvalDeadline: new Date(clock.now().getTime() + 30 * MIN).toISOString(), dueAt: clock.now().getTime() + 30 * MIN, ...overrides });
  await store.create(r);
  return r;
}

it("an approver sees the pending requests of targets they approve, not their own, not other targets', not ones they approved already", async () => {
  const theirs = await put({ requesterId: 'U0DEV' });
  await put({ requesterId: 'U0APPROVER' }); // their own
  await put({ requesterId: 'U0DEV', targetName: 'db', dueAt: clock.now().getTime() + 100 * MIN }); // U0DBA's target
  await put({ requesterId: 'U0DEV', approvalsRequired: 2, approvals: [{ by: 'U0APPROVER', at: clock.now().toISOString() }] });
  // Active grants share the due index (their warning time): skipped.
  await put({ requesterId: 'U0DEV', status: 'ACTIVE', expiresAt: new Date(clock.now().getTime() + 20 * MIN).toISOString(), dueAt: clock.now().getTime() + 15 * MIN });
  const home = await service.home('U0APPROVER');
  expect(home.waiting.map((r) => r.id)).toEqual([theirs.id]);
  expect(home.waitingMore).toBe(false);
  expect(home.pending.map((r) => r.requesterId)).toEqual(['U0APPROVER']);

  // The db approver finds the db request, due after the default 30m timeout (the longest timeout bounds the read).
  expect((await service.home('U0DBA')).waiting.map((r) => r.targetName)).toEqual(['db']);
  // Someone who approves nothing reads no index for it and sees nothing waiting.
  expect((await service.home('U0DEV')).waiting).toEqual([]);
});

it("the user's own: active grants soonest ending first (with which may be extended), pending ones; nothing of others", async () => {
  const later = await put({ status: 'ACTIVE', grantedAt: clock.now().toISOString(), expiresAt: new Date(clock.now().getTime() + 50 * MIN).toISOString(), dueAt: clock.now().getTime() + 45 * MIN });
  const sooner = await put({ status: 'ACTIVE', grantedAt: clock.now().toISOString(), expiresAt: new Date(clock.now().getTime() + 20 * MIN).toISOString(), dueAt: clock.now().getTime() + 15 * MIN });
  const pending = await put({});
  await put({ requesterId: 'U0OTHER' });
  const home = await service.home('U0REQUESTER');
  expect(home.active.map((r) => r.id)).toEqual([sooner.id, later.id]);
  expect(home.pending.map((r) => r.id)).toEqual([pending.id]);
  expect(home.at).toBe(clock.now().toISOString());
});

it(`shows at most ${HOME_WAITING_MAX} waiting, soonest deadline first, and says there are more`, async () => {
  for (let i = 0; i < HOME_WAITING_MAX + 3; i++) await put({ requesterId: 'U0DEV', dueAt: clock.now().getTime() + (i + 1) * 1000 });
  const home = await service.home('U0APPROVER');
  expect(home.waiting).toHaveLength(HOME_WAITING_MAX);
  expect(home.waitingMore).toBe(true);
  const due = home.waiting.map((r) => r.dueAt!);
  expect(due).toEqual([...due].sort((a, b) => a - b));
});
