/**
 * The messaging adapter: renders a queued notification with the block builders and sends it
 * with the Web API. Called only by the outbox processor; a failure here is retried there and
 * never reaches a grant or a revoke. It decides nothing: whom to remind and whether to offer
 * "Extend" come from the core (NotificationFacts, the AccessService in production).
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { approvalMessage } from '../blocks/approval';
import { auditChannelAlert, breakGlassAlert, reminderThreadMessage, revokedThreadMessage, systemAlert } from '../blocks/channel';
import { alertMessage, deniedDm, endedDm, extendedDm, failedDm, grantedDm, reminderDm, submittedDm, timeoutDm, warningDm } from '../blocks/dm';
import { auditLine } from '../blocks/audit-line';
import { notificationText } from '../blocks/errors';
import { homeView } from '../blocks/home';
import type { SlackMessage } from '../blocks/kit';
import type { JitConfig } from '../src/config-types';
import type { ReminderAudience } from '../src/domain/policy-terms';
import type { AccessRequest, HomeContents, Notification, SlackMessageRef, Target } from '../src/domain/types';
import { SendRateLimitedError } from '../src/domain/errors';
import type { Clock, NotificationSender, SendOptions } from '../src/ports';
import type { HomeViewers } from './home-viewers';
import { asSendError, unusableChannel } from './rate-limit';
import { type Destination, keyMetadata, messageKey, SentMessages } from './sent-messages';

/** How often the approver channel hears that the audit channel cannot take lines (once an hour). */
const AUDIT_ALERT_EVERY_MS = 60 * 60_000;

/** What the notifier asks the core before it renders (AccessService answers both). */
export interface NotificationFacts {
  /** Whom a reminder of this pending request names in the thread and DMs. */
  reminderAudience(request: AccessRequest): Promise<ReminderAudience>;
  /** Whether the expiry warning offers "Extend". */
  extensionOffered(request: AccessRequest): boolean;
  /** What a user's App Home shows now (home.refresh re-publishes it). */
  home(userId: string): Promise<HomeContents>;
}

export class SlackNotifier implements NotificationSender {
  constructor(
    private readonly client: WebClient,
    private readonly config: JitConfig,
    private readonly clock: Clock,
    private readonly facts: NotificationFacts,
    private readonly log?: Logger,
    private readonly opts: { homeRefreshIntervalMs?: number; homeViewers?: HomeViewers } = {},
  ) {
    this.sent = new SentMessages(client, log);
  }

  /** Where a resend looks for an earlier delivery. */
  private readonly sent: SentMessages;

  /** When the approver channel was last told that the audit channel cannot take lines. */
  private auditAlertAt: number | undefined;

  /**
   * Per user: the latest home refresh. `waiting` until it starts (later refreshes share it);
   * `gate` resolves `homeRefreshIntervalMs` after it published (the next one starts then).
   */
  private readonly homes = new Map<string, { waiting: boolean; done: Promise<void>; gate: Promise<void> }>();

  async send(n: Notification, r: AccessRequest, target: Target | undefined, options: SendOptions = {}): Promise<SlackMessageRef | void> {
    const d: Delivery = { notification: n, resend: options.resend === true, posted: 0 };
    try {
      return await this.deliver(n, r, target, d);
    } catch (err) {
      throw asSendError(err, d.posted > 0); // a 429 becomes the port's SendRateLimitedError
    }
  }

  private async deliver(n: Notification, r: AccessRequest, target: Target | undefined, d: Delivery): Promise<SlackMessageRef | void> {
    const thread = (): Destination => ({ channel: this.config.approverChannel, ...(r.approvalMessage ? { threadTs: r.approvalMessage.ts } : {}) });
    switch (n.kind) {
      case 'approval.post':
        return this.postApproval(r, target, d);
      case 'approval.update':
        if (!r.approvalMessage) return this.postApproval(r, target, d);
        // In place: sending it again shows nothing new.
        await this.client.chat.update({ channel: r.approvalMessage.channel, ts: r.approvalMessage.ts, ...approvalMessage(r, target) });
        return;
      case 'thread.revoked':
        await this.post(thread(), revokedThreadMessage(r), r, d);
        return;
      case 'approval.reminder':
        return this.remind(r, target, d);
      case 'channel.break-glass':
        // Top level, not threaded: it has to be seen.
        await this.post({ channel: this.config.approverChannel }, breakGlassAlert(r, target), r, d);
        return;
      case 'channel.audit':
        // Turned off since it was queued, or an item without its entry: nothing to post.
        if (!this.config.auditChannel || !n.entry) return;
        return this.postAuditLine(this.config.auditChannel, auditLine(r, n.entry), r, d);
      case 'home.refresh':
        // A whole view, published again: sending it twice shows nothing new.
        return this.refreshHome(n.userId ?? r.requesterId, r.id);
      case 'channel.alert':
        await this.post(thread(), alertMessage(r, notificationText(n)), r, d);
        return;
      default:
        await this.post({ channel: r.requesterId }, this.renderDm(n, r, target), r, d);
    }
  }

  /**
   * Posts one message of a request with its key (slack/sent-messages.ts). A resend looks for the
   * key first and posts nothing when Slack has the message already.
   */
  private async post(to: Destination, message: SlackMessage, r: AccessRequest, d: Delivery, part = d.notification.id): Promise<SlackMessageRef> {
    const key = messageKey(r.id, part, to.channel);
    if (d.resend) {
      const found = await this.sent.find(to, key, Date.parse(d.notification.createdAt));
      if (found) {
        d.posted++;
        this.log?.info({ event: 'notify.already_sent', requestId: r.id, notification: d.notification.kind, ts: found.ts }, 'Slack has this message from an earlier delivery; not sending it again');
        return found;
      }
    }
    const res = await this.client.chat.postMessage({ channel: to.channel, ...(to.threadTs ? { thread_ts: to.threadTs } : {}), ...message, metadata: keyMetadata(key) });
    d.posted++;
    return { channel: res.channel ?? to.channel, ts: res.ts! };
  }

  /**
   * Re-publishes a user's home as it is now. Refreshes of one user coalesce: while one waits to
   * start, later ones share it (it reads the state after all of them), so a burst of changes
   * costs a publish per interval, not one per change.
   */
  private refreshHome(userId: string, requestId: string): Promise<void> {
    // Nobody looking: the home is built fresh when the user opens it.
    if (this.opts.homeViewers && !this.opts.homeViewers.has(userId)) return Promise.resolve();
    const queued = this.homes.get(userId);
    if (queued?.waiting) return queued.done;
    const intervalMs = this.opts.homeRefreshIntervalMs ?? 0;
    const entry = { waiting: true, done: Promise.resolve(), gate: Promise.resolve() };
    entry.done = (queued?.gate ?? Promise.resolve()).then(() => {
      entry.waiting = false;
      return this.publishHome(userId, requestId);
    });
    // A burst of changes (fifty grants ending together) publishes at most once per interval, so
    // the refreshes never crowd out the work they report on.
    entry.gate = entry.done
      .catch(() => undefined)
      .then(() => (intervalMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, intervalMs).unref()) : undefined))
      .finally(() => {
        if (this.homes.get(userId) === entry) this.homes.delete(userId);
      });
    this.homes.set(userId, entry);
    return entry.done;
  }

  private async publishHome(userId: string, requestId: string): Promise<void> {
    try {
      await this.client.views.publish({ user_id: userId, view: homeView(await this.facts.home(userId)) });
    } catch (err) {
      // Best effort: the home is rebuilt whenever it is opened, so a refresh Slack refuses (no
      // home tab in an older app configuration) is logged and dropped, never holding up the
      // request's other messages. A rate limit is retried like any other message.
      const e = asSendError(err);
      if (e instanceof SendRateLimitedError) throw e;
      this.log?.warn({ event: 'home.refresh_failed', requestId, err: e instanceof Error ? e.message : String(e) }, 'could not refresh an App Home; it is rebuilt when opened');
    }
  }

  /**
   * The audit channel is a second copy (the table holds the record): a line it cannot take because
   * the channel is gone, archived or the bot is not in it is logged and dropped, so the request's
   * DMs and message updates behind it are not held up for the outbox's whole retry budget. The
   * approver channel is told, at most once per AUDIT_ALERT_EVERY_MS. Anything else (a rate limit,
   * Slack down) is retried in order like every other message.
   */
  private async postAuditLine(channel: string, line: SlackMessage, r: AccessRequest, d: Delivery): Promise<void> {
    try {
      await this.post({ channel }, line, r, d);
    } catch (err) {
      const code = unusableChannel(err);
      if (code === undefined) throw err;
      this.log?.error({ event: 'audit_channel.unusable', requestId: r.id, slackError: code, line: line.text }, 'the audit channel cannot take the line; dropped (the audit record is in the table)');
      const now = this.clock.now().getTime();
      if (this.auditAlertAt !== undefined && now - this.auditAlertAt < AUDIT_ALERT_EVERY_MS) return;
      this.auditAlertAt = now;
      await this.client.chat.postMessage({ channel: this.config.approverChannel, ...auditChannelAlert(channel, code) }).catch(() => undefined);
    }
  }

  async alert(title: string, text: string): Promise<void> {
    await this.client.chat.postMessage({ channel: this.config.approverChannel, ...systemAlert(title, text) });
  }

  private renderDm(n: Notification, r: AccessRequest, target: Target | undefined): SlackMessage {
    switch (n.kind) {
      case 'dm.submitted':
        return submittedDm(r, target, this.config.approverChannel);
      case 'dm.granted':
        return grantedDm(r, target);
      case 'dm.denied':
        return deniedDm(r);
      case 'dm.timeout':
        return timeoutDm(r);
      case 'dm.warning':
        return warningDm(r, this.clock.now(), { canExtend: this.facts.extensionOffered(r) });
      case 'dm.extended':
        return extendedDm(r);
      case 'dm.ended':
        return endedDm(r);
      case 'dm.failed':
        return failedDm(r);
      default:
        throw new Error(`no renderer for ${n.kind}`);
    }
  }

  /**
   * Reminds the approvers who have not approved yet (the core says who): a thread reply under the
   * approval message naming them (users and groups), and a DM to each when the target asks for it.
   */
  private async remind(r: AccessRequest, target: Target | undefined, d: Delivery): Promise<void> {
    const audience = await this.facts.reminderAudience(r);
    await this.post({ channel: this.config.approverChannel, ...(r.approvalMessage ? { threadTs: r.approvalMessage.ts } : {}) }, reminderThreadMessage(r, audience.mention), r, d);
    // One key per approver: a resend after the third DM sends the fourth and on, not the first three again.
    for (const user of audience.dm) await this.post({ channel: user }, reminderDm(r, target, this.config.approverChannel), r, d);
  }

  /** The approval message: one per request, whichever notification posts it (its key says so). */
  private postApproval(r: AccessRequest, target: Target | undefined, d: Delivery): Promise<SlackMessageRef> {
    return this.post({ channel: this.config.approverChannel }, approvalMessage(r, target), r, d, 'approval');
  }
}

/** One notification being delivered: which, and whether an earlier delivery may have sent it. */
interface Delivery {
  notification: Notification;
  resend: boolean;
  /** Messages of it in Slack so far, posted or found (a reminder posts several). */
  posted: number;
}
