/**
 * The messaging adapter: renders a queued notification with the block builders and sends it
 * with the Web API. Called only by the outbox processor; a failure here is retried there and
 * never reaches a grant or a revoke. It decides nothing: whom to remind and whether to offer
 * "Extend" come from the core (NotificationFacts, the AccessService in production).
 */
import type { WebClient } from '@slack/web-api';
import { approvalMessage } from '../blocks/approval';
import { breakGlassAlert, reminderThreadMessage, revokedThreadMessage, systemAlert } from '../blocks/channel';
import { alertMessage, deniedDm, endedDm, extendedDm, failedDm, grantedDm, reminderDm, submittedDm, timeoutDm, warningDm } from '../blocks/dm';
import { notificationText } from '../blocks/errors';
import type { SlackMessage } from '../blocks/kit';
import type { JitConfig } from '../src/config-types';
import type { ReminderAudience } from '../src/domain/policy-terms';
import type { AccessRequest, Notification, SlackMessageRef, Target } from '../src/domain/types';
import type { Clock, NotificationSender } from '../src/ports';
import { asSendError } from './rate-limit';

/** What the notifier asks the core before it renders (AccessService answers both). */
export interface NotificationFacts {
  /** Whom a reminder of this pending request names in the thread and DMs. */
  reminderAudience(request: AccessRequest): Promise<ReminderAudience>;
  /** Whether the expiry warning offers "Extend". */
  extensionOffered(request: AccessRequest): boolean;
}

export class SlackNotifier implements NotificationSender {
  constructor(
    private readonly client: WebClient,
    private readonly config: JitConfig,
    private readonly clock: Clock,
    private readonly facts: NotificationFacts,
  ) {}

  async send(n: Notification, r: AccessRequest, target: Target | undefined): Promise<SlackMessageRef | void> {
    try {
      return await this.deliver(n, r, target);
    } catch (err) {
      throw asSendError(err); // a 429 becomes the port's SendRateLimitedError
    }
  }

  private async deliver(n: Notification, r: AccessRequest, target: Target | undefined): Promise<SlackMessageRef | void> {
    switch (n.kind) {
      case 'approval.post':
        return this.postApproval(r, target);
      case 'approval.update':
        if (!r.approvalMessage) return this.postApproval(r, target);
        await this.client.chat.update({ channel: r.approvalMessage.channel, ts: r.approvalMessage.ts, ...approvalMessage(r, target) });
        return;
      case 'thread.revoked':
        await this.client.chat.postMessage({ channel: this.config.approverChannel, ...(r.approvalMessage ? { thread_ts: r.approvalMessage.ts } : {}), ...revokedThreadMessage(r) });
        return;
      case 'approval.reminder':
        return this.remind(r, target);
      case 'channel.break-glass':
        // Top level, not threaded: it has to be seen.
        await this.client.chat.postMessage({ channel: this.config.approverChannel, ...breakGlassAlert(r, target) });
        return;
      case 'channel.alert':
        await this.client.chat.postMessage({ channel: this.config.approverChannel, ...(r.approvalMessage ? { thread_ts: r.approvalMessage.ts } : {}), ...alertMessage(r, notificationText(n)) });
        return;
      default:
        await this.dm(r, this.renderDm(n, r, target));
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
  private async remind(r: AccessRequest, target: Target | undefined): Promise<void> {
    const audience = await this.facts.reminderAudience(r);
    await this.client.chat.postMessage({ channel: this.config.approverChannel, ...(r.approvalMessage ? { thread_ts: r.approvalMessage.ts } : {}), ...reminderThreadMessage(r, audience.mention) });
    for (const user of audience.dm) await this.client.chat.postMessage({ channel: user, ...reminderDm(r, target, this.config.approverChannel) });
  }

  private async postApproval(r: AccessRequest, target: Target | undefined): Promise<SlackMessageRef> {
    const res = await this.client.chat.postMessage({ channel: this.config.approverChannel, ...approvalMessage(r, target) });
    return { channel: res.channel ?? this.config.approverChannel, ts: res.ts! };
  }

  private async dm(r: AccessRequest, message: SlackMessage): Promise<void> {
    await this.client.chat.postMessage({ channel: r.requesterId, ...message });
  }
}
