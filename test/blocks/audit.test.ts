import { auditHistoryReply, auditTimelineReply, auditUsageReply, MAX_TIMELINE_ENTRIES } from '../../blocks/audit';
import { ACTION_AUDIT_MORE } from '../../blocks/ids';
import { LIMITS } from '../../blocks/text';
import { decodeAuditPage } from '../../src/domain/audit';
import type { AccessRequest, AuditEntry } from '../../src/domain/types';
import { pendingRequest } from '../support/requests';

const json = (m: { text: string; blocks: unknown[] }) => `${m.text}\n${JSON.stringify(m.blocks)}`;

describe('the timeline', () => {
  it('escapes user text in the reason, notes and details; names actors; shows the AWS ids', () => {
    const r: AccessRequest = {
      ...pendingRequest({ reason: 'fix <!channel> & <https://evil|click>' }),
      status: 'DENIED',
      decidedBy: 'U0APPROVER1',
      decisionComment: 'no <@U0EVERYONE>',
      audit: [
        { at: '2026-11-22T10:00:00.000Z', actor: 'U0REQUESTER', action: 'request', from: null, to: 'PENDING' },
        { at: '2026-11-22T10:01:00.000Z', actor: 'U0APPROVER1', action: 'deny', from: 'PENDING', to: 'DENIED', details: { comment: 'no <@U0EVERYONE> `x`' } },
      ],
    };
    const shown = json(auditTimelineReply(r));
    expect(shown).not.toContain('<!channel>');
    expect(shown).not.toContain('<@U0EVERYONE>');
    expect(shown).not.toContain('<https://evil');
    expect(shown).toContain('fix &lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
    expect(shown).toContain('<@U0APPROVER1>');
    expect(shown).toContain('PENDING → DENIED');
  });

  it('a long trail stays inside Slack limits and says how many are left out', () => {
    const audit: AuditEntry[] = Array.from({ length: 300 }, (_, i) => ({ at: new Date(Date.UTC(2026, 10, 22, 10, i)).toISOString(), actor: 'system', action: 'revoke-retry', from: 'REVOKING', to: 'REVOKING', details: { code: 'aws-throttled', ref: `REF${i}`, error: 'x'.repeat(900) } }));
    const m = auditTimelineReply({ ...pendingRequest(), status: 'REVOKING', audit });
    expect(m.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
    expect(json(m)).toContain(`…and ${300 - MAX_TIMELINE_ENTRIES} more.`);
    for (const b of m.blocks as { text?: { text: string } }[]) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
  });
});

describe('a listing', () => {
  const subject = { by: 'target' as const, name: 'prod-bastion' };
  it('"More" carries a token that decodes to the next page, and nothing else', () => {
    const next = { subject, sinceIso: '2026-11-01T00:00:00.000Z', after: { createdAt: '2026-11-20T10:00:00.000Z', id: 'jit-7k3m9q2xab' } };
    const m = auditHistoryReply({ subject, sinceIso: next.sinceIso, first: true, requests: [pendingRequest()], next });
    const button = (m.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find((b) => b.type === 'actions')!.elements![0]!;
    expect(button.action_id).toBe(ACTION_AUDIT_MORE);
    expect(decodeAuditPage(button.value)).toEqual(next);
  });

  it('an empty window and an empty last page say so; no More', () => {
    expect(auditHistoryReply({ subject, sinceIso: '2026-11-01T00:00:00.000Z', first: true, requests: [] }).text).toBe('No requests in that window.');
    expect(auditHistoryReply({ subject, sinceIso: '2026-11-01T00:00:00.000Z', first: false, requests: [] }).text).toBe('No more requests.');
  });

  it('grammar mistakes get the usage', () => {
    expect(auditUsageReply('since-missing').text).toContain('since 7d');
    expect(auditUsageReply('subject').text).toMatch(/not a request id, a person or a target name/);
  });
});
