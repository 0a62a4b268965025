/**
 * Delivery of notifications, separate from the lifecycle. A transition stores the messages it
 * owes in the request's outbox in the same conditional write; this processor delivers them in
 * order, per request, and removes each once Slack accepted it. A slow or failing Slack
 * (429 Retry-After, 5xx) delays messages here and never holds up a grant or a revoke.
 */
import type { Logger } from 'pino';
import type { JitConfig } from './config-types';
import type { AccessRequest, Notification, SlackMessageRef, Target } from './domain/types';
import { SendRateLimitedError } from './domain/errors';
import type { Clock, FaultHook, NotificationClaim, NotificationSender, RequestStore, Telemetry } from './ports';
import type { AccessService } from './service';
import type { YieldLane } from './yield-lane';

export interface OutboxOptions {
  store: RequestStore;
  sender: NotificationSender;
  config: JitConfig;
  clock: Clock;
  log: Logger;
  /** How often undelivered notifications are looked for (besides immediate delivery on change). */
  intervalMs?: number;
  /** Give up on a notification after this many failed attempts (logged as an error). */
  maxAttempts?: number;
  /** This replica, for delivery claims. */
  owner: string;
  /** How long a claimed notification is reserved for this replica (longer than one send with its retries). */
  claimMs?: number;
  /** Delivery results, for metrics; default: none. */
  telemetry?: Telemetry;
  /**
   * Delivery passes running at once (default 8); more wait their turn, oldest first. A burst of
   * requests then does not put hundreds of sends and store writes in front of the next ack.
   */
  concurrency?: number;
  /**
   * Work that goes first: a delivery pass waits for this to resolve before it takes a slot (main:
   * the scheduler's revocation lane being empty), but never longer than PRIORITY_WAIT_MS. During a
   * mass expiry the revocations then have the process to themselves, and their messages follow.
   */
  yieldTo?: () => Promise<void>;
  /**
   * Where a pass starts: a YieldLane (src/yield-lane.ts) admits each pass after pending I/O (new
   * requests' acks) and holds a slot only while the pass runs. Default: start at once.
   */
  lane?: YieldLane;
  /** Fault-injection tests: called between Slack's answer and the record of it ('after-message-sent'). */
  faults?: FaultHook;
}

/** Slack refused the message outright (a rate limit before anything of it was posted). */
const nothingSent = (err: unknown): boolean => err instanceof SendRateLimitedError && !err.partlySent;

/** The longest a delivery pass waits for the work that goes first (OutboxOptions.yieldTo). */
export const PRIORITY_WAIT_MS = 5_000;

/** What one delivery loop has acked so far, and the approval message's ref if it posted it. */
interface Delivered {
  ids: Set<string>;
  approvalMessage?: SlackMessageRef;
}

export class OutboxProcessor {
  /** One delivery loop per request at most; `again` asks it for one more pass. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  /** The request as this replica last wrote it, for the loop's next pass (instead of a read). */
  private readonly written = new Map<string, AccessRequest>();
  private stopped = false;
  /** Per-request earliest next attempt after a failure (epoch ms). */
  private readonly backoff = new Map<string, number>();
  private interval?: NodeJS.Timeout;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly o: OutboxOptions) {}

  /** Delivers right after each change that queued something. */
  attach(service: AccessService): void {
    service.onChange((r) => {
      // The request as just written: the first pass delivers from it without reading it again.
      if (Object.keys(r.outbox).length > 0) this.kick(r.id, r);
    });
  }

  /** Polls the outbox index for anything left over (a crash, another replica, a failed send). */
  start(): void {
    this.interval = setInterval(() => void this.drain(), this.o.intervalMs ?? 2_000);
    this.interval.unref();
    void this.drain();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    await this.idle();
  }

  /**
   * Starts delivery for one request without waiting for it. `written`: the request as this replica
   * just stored it; the pass then starts from it instead of a read (the claim, a conditional write,
   * still says whether its messages are there to send).
   */
  kick(id: string, written?: AccessRequest): void {
    if (!this.stopped) void this.deliver(id, written);
  }

  /** Delivers everything undelivered (oldest first). */
  async drain(): Promise<void> {
    try {
      const pending = await this.o.store.listWithOutbox(100);
      await Promise.all(pending.map((r) => this.deliver(r.id)));
    } catch (err) {
      this.o.log.error({ event: 'outbox.drain_failed', err: (err as Error).message }, 'could not read the outbox; will retry');
    }
  }

  /** Resolves when nothing is being delivered (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private deliver(id: string, written?: AccessRequest): Promise<void> {
    const running = this.inFlight.get(id);
    if (running) {
      this.again.add(id); // the running loop picks up what arrived meanwhile
      if (written) this.written.set(id, written);
      else this.written.delete(id);
      return running;
    }
    const loop = async () => {
      let snapshot = written;
      // What this loop acked and where it posted the approval message: a later snapshot may have
      // been written before either.
      const acked: Delivered = { ids: new Set<string>() };
      do {
        await this.turn();
        const release = this.o.lane ? await this.o.lane.admit() : undefined;
        if (this.again.has(id)) {
          // Changed since (while this waited for a slot, or during the last pass): start from the
          // latest write, or read when the latest word was a drain's.
          snapshot = this.written.get(id);
          this.written.delete(id);
        }
        this.again.delete(id);
        try {
          await this.deliverNow(id, snapshot, acked);
        } catch (err) {
          // The store or the sender failed outside a send: logged, retried by the next drain.
          this.o.log.error({ event: 'outbox.deliver_failed', requestId: id, err: (err as Error).message }, 'delivery failed; will retry');
          return;
        } finally {
          release?.();
          this.done();
        }
      } while (this.again.has(id) && !this.stopped);
    };
    const p = loop().finally(() => {
      this.inFlight.delete(id);
      this.written.delete(id);
    });
    this.inFlight.set(id, p);
    return p;
  }

  /** Waits for the work that goes first (bounded), then for a free delivery slot. */
  private async turn(): Promise<void> {
    if (this.o.yieldTo) {
      let timer: NodeJS.Timeout | undefined;
      const lapse = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, PRIORITY_WAIT_MS);
        timer.unref();
      });
      await Promise.race([this.o.yieldTo(), lapse]);
      clearTimeout(timer);
    }
    return this.slot();
  }

  private slot(): Promise<void> {
    if (this.active < (this.o.concurrency ?? 8)) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Frees a slot: the oldest waiting pass takes it. */
  private done(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  private async deliverNow(id: string, snapshot?: AccessRequest, acked: Delivered = { ids: new Set<string>() }): Promise<void> {
    const notBefore = this.backoff.get(id);
    if (notBefore !== undefined && this.o.clock.now().getTime() < notBefore) return;
    let request = snapshot ?? (await this.o.store.get(id));
    if (!request) return;
    if (snapshot && !request.approvalMessage && acked.approvalMessage) request = { ...request, approvalMessage: acked.approvalMessage };
    const queue = Object.values(request.outbox)
      .filter((n) => !snapshot || !acked.ids.has(n.id))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    if (queue.length === 0) return;
    // The outbox itself writes where the approval message is: a snapshot written before that
    // (the message posted, the ref not in it) would post the message again instead of updating it.
    if (snapshot && !request.approvalMessage && !queue.some((n) => n.kind === 'approval.post')) return this.deliverNow(id, undefined, acked);
    const { claimNotifications, ackNotifications } = this.o.store;
    if (!claimNotifications || !ackNotifications) return this.deliverEach(request, queue);
    // One claim for the whole pass (all or none), one ack for what it sent.
    const now = this.o.clock.now().getTime();
    const claimed = await claimNotifications.call(this.o.store, id, queue.map((n) => n.id), this.o.owner, now, now + (this.o.claimMs ?? 15_000));
    if (!claimed) {
      // A snapshot can be behind (a message acked since): read and try again. Otherwise another
      // replica holds one of them: go message by message, which stops at the first one it holds.
      if (snapshot) return this.deliverNow(id);
      return this.deliverEach(request, queue);
    }
    await this.deliverClaimed(request, queue, claimed, async (ids, approvalMessage) => {
      await ackNotifications.call(this.o.store, id, ids, approvalMessage);
      for (const n of ids) acked.ids.add(n);
      if (approvalMessage) acked.approvalMessage = approvalMessage;
    });
  }

  /**
   * Sends a claimed pass in order; acks what was sent in one write, at the end or at the first
   * failure, with the approval message's ref when the pass posted it (later messages of the pass
   * already render with it).
   */
  private async deliverClaimed(request: AccessRequest, queue: Notification[], claim: NotificationClaim, ack: (ids: string[], approvalMessage?: SlackMessageRef) => Promise<void>): Promise<void> {
    const target = this.o.config.targets.find((t) => t.name === request.targetName);
    const sent: string[] = [];
    let posted: SlackMessageRef | undefined;
    for (const [i, n] of queue.entries()) {
      const log = () => this.o.log.child({ requestId: request.id, notification: n.kind });
      try {
        const ref = await this.send(n, request, target, claim);
        if (ref && !request.approvalMessage) {
          posted = ref;
          request = { ...request, approvalMessage: ref };
        }
        sent.push(n.id);
        this.o.telemetry?.notification('sent');
        if (this.o.log.isLevelEnabled('debug')) log().debug({ event: 'notify.sent' }, 'notification delivered');
      } catch (err) {
        await ack(sent, posted);
        // What never reached Slack goes plainly next time, not as a resend: the rest of the pass,
        // and this one when Slack refused it outright.
        await this.release(request.id, [...(nothingSent(err) ? [n.id] : []), ...queue.slice(i + 1).map((x) => x.id)]);
        await this.failed(request, n, err as Error, log());
        return; // keep order: later messages of this request wait for this one
      }
    }
    await ack(sent, posted);
    this.backoff.delete(request.id);
  }

  /** One claim and one ack per message (a store without the batch calls, or a contended outbox). */
  private async deliverEach(request: AccessRequest, queue: Notification[]): Promise<void> {
    const id = request.id;
    for (const n of queue) {
      const target = this.o.config.targets.find((t) => t.name === request!.targetName);
      const log = this.o.log.child({ requestId: id, notification: n.kind });
      // Several replicas drain the same outbox: only the one holding the claim sends. If another
      // holds it, stop here to keep this request's messages in order.
      const now = this.o.clock.now().getTime();
      const claim = await this.o.store.claimNotification(id, n.id, this.o.owner, now, now + (this.o.claimMs ?? 15_000));
      if (!claim) return;
      try {
        const ref = await this.send(n, request, target, claim);
        if (ref && !request.approvalMessage) {
          await this.o.store.setApprovalMessage(id, ref);
          request = { ...request, approvalMessage: ref };
        }
        await this.o.store.ackNotification(id, n.id);
        this.backoff.delete(id);
        this.o.telemetry?.notification('sent');
        log.debug({ event: 'notify.sent' }, 'notification delivered');
      } catch (err) {
        if (nothingSent(err)) await this.release(id, [n.id]);
        await this.failed(request, n, err as Error, log);
        return; // keep order: later messages of this request wait for this one
      }
    }
  }

  /**
   * Hands back claims on messages that never reached Slack. Best effort: a claim not handed back
   * (a store without the call, or one that failed) lapses, and those go as resends, only slower.
   */
  private async release(id: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.o.store.releaseNotifications?.(id, ids, this.o.owner);
    } catch (err) {
      this.o.log.warn({ event: 'outbox.release_failed', requestId: id, err: (err as Error).message }, 'could not hand back delivery claims; they lapse');
    }
  }

  /**
   * Hands one message to the sender. A message an earlier pass claimed and never recorded sent
   * (it crashed or failed between Slack's answer and the ack) goes as a resend: the sender looks
   * for it in Slack first, so nobody sees it twice.
   */
  private async send(n: Notification, request: AccessRequest, target: Target | undefined, claim: NotificationClaim): Promise<SlackMessageRef | void> {
    const resend = claim.reclaimed.has(n.id);
    if (resend) this.o.log.info({ event: 'notify.resend', requestId: request.id, notification: n.kind }, 'an earlier delivery stopped before it was recorded; looking for the message in Slack before sending it again');
    const ref = await this.o.sender.send(n, request, target, { resend });
    this.o.faults?.('after-message-sent', request.id, n.kind);
    return ref;
  }

  private async failed(request: AccessRequest, n: Notification, err: Error, log: Logger): Promise<void> {
    const attempts = (n.attempts ?? 0) + 1;
    const maxAttempts = this.o.maxAttempts ?? 20;
    if (attempts >= maxAttempts) {
      log.error({ event: 'notify.dropped', attempts, err: err.message }, 'giving up on a notification');
      await this.o.store.ackNotification(request.id, n.id);
      this.o.telemetry?.notification('dropped');
      return;
    }
    // Honour the sender's rate limit when it reported one (SendRateLimitedError), else back off exponentially.
    const retryAfterMs = err instanceof SendRateLimitedError ? err.retryAfterMs : 0;
    const delay = Math.max(retryAfterMs, Math.min(5 * 60_000, 1_000 * 2 ** (attempts - 1)));
    this.backoff.set(request.id, this.o.clock.now().getTime() + delay);
    this.o.telemetry?.notification('retried');
    log.warn({ event: 'notify.retry', attempts, retryInMs: delay, err: err.message }, 'notification failed; will retry');
    await this.o.store.recordNotificationAttempt(request.id, n.id, attempts);
  }
}
