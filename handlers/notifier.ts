/**
 * The messaging adapter: renders a queued notification with the block builders and sends it
 * with the Web API. Called only by the outbox processor; a failure here is retried there and
 * never reaches a grant or a revoke.
 */
import type { WebClient } from '@slack/web-api';
import { approvalMessage } from '../blocks/approval';
import { revokedThreadMessage, systemAlert } from '../blocks/channel';
import { alertMessage, deniedDm, endedDm, failedDm, grantedDm, submittedDm, timeoutDm, warningDm } from '../blocks/dm';
import type { SlackMessage } from '../blocks/kit';
import type { JitConfig } from '../src/config-types';
import type { AccessRequest, Notification, SlackMessageRef, Target } from '../src/domain/types';
import type { Clock, NotificationSender } from '../src/ports';

export class SlackNotifier implements NotificationSender {
  constructor(
    private readonly client: WebClient,
    private readonly config: JitConfig,
    private readonly clock: Clock,
  ) {}

  async send(n: Notification, r: AccessRequest, target: Target | undefined): Promise<SlackMessageRef | void> {
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
      case 'channel.alert':
        await this.client.chat.postMessage({ channel: this.config.approverChannel, ...(r.approvalMessage ? { thread_ts: r.approvalMessage.ts } : {}), ...alertMessage(r, n.text ?? '') });
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
        return warningDm(r, this.clock.now());
      case 'dm.ended':
        return endedDm(r);
      case 'dm.failed':
        return failedDm(r);
      default:
        throw new Error(`no renderer for ${n.kind}`);
    }
  }

  private async postApproval(r: AccessRequest, target: Target | undefined): Promise<SlackMessageRef> {
    const res = await this.client.chat.postMessage({ channel: this.config.approverChannel, ...approvalMessage(r, target) });
    return { channel: res.channel ?? this.config.approverChannel, ts: res.ts! };
  }

  private async dm(r: AccessRequest, message: SlackMessage): Promise<void> {
    await this.client.chat.postMessage({ channel: r.requesterId, ...message });
  }
}
