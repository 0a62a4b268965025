/**
 * `/jit`: acks at once, parses the text, calls the core, replies ephemerally (via response_url)
 * or opens the request form. Bad input gets a reply that says how to fix it; nothing is stored.
 * An answer that needs nothing but the text (help, an unknown word, a missing or malformed id)
 * travels in the ack itself (Slack shows an ack's body as the ephemeral reply): one HTTP
 * exchange instead of two, and nothing left to do after the ack.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { badIdReply, errorReply, helpText, listReply, policyReply, revokedReply, submittedReply, targetsReply } from '../../blocks/command';
import { auditHistoryReply, auditRefusedReply, auditTimelineReply, auditUsageReply } from '../../blocks/audit';
import { doctorReply } from '../../blocks/doctor';
import { typedText } from '../../blocks/text';
import { requestModal } from '../../blocks/modal';
import { parseJitCommand } from '../../src/domain/command';
import { isRequestId } from '../../src/domain/ids';
import type { HandlerDeps } from '../deps';
import { errorMessage, warnBadId } from '../errors';
import { answerInAck } from '../../slack/after-ack';

export function jitCommand({ service, log, doctor }: HandlerDeps) {
  return async ({ ack, command, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const userId = command.user_id;
    const parsed = parseJitCommand(command.text ?? '');
    const now = immediateReply(parsed);
    if (now) {
      if (parsed.sub === 'revoke' && parsed.id) warnBadId(log, 'command', parsed.id, { userId, sub: 'revoke' });
      await answerInAck(ack, { response_type: 'ephemeral', ...now });
      return;
    }
    await ack();
    const reply = (message: { text: string; blocks: unknown[] }) => respond({ response_type: 'ephemeral', replace_original: false, ...(message as { text: string }) });
    try {
      switch (parsed.sub) {
        case 'modal':
          await client.views.open({ trigger_id: command.trigger_id, view: requestModal(await service.targetsFor(userId)) });
          return;
        case 'request': {
          const request = await service.submit({ requesterId: userId, targetName: parsed.targetName, duration: parsed.duration, address: parsed.address, accounts: parsed.accounts, reason: parsed.reason === undefined ? undefined : typedText(parsed.reason), breakGlass: parsed.breakGlass });
          await reply(submittedReply(request, service.config.approverChannel));
          return;
        }
        case 'list':
          await reply(listReply(await service.listOpen(userId)));
          return;
        case 'revoke': {
          if (parsed.id === undefined) return; // answered in the ack
          await reply(revokedReply(await service.revoke(parsed.id, userId)));
          return;
        }
        case 'targets':
          await reply(targetsReply(await service.targetSummaries(userId)));
          return;
        case 'policy': {
          const view = await service.policyView(userId);
          await reply(view.scope === 'all' ? policyReply(view.lines) : errorReply('Only approvers can see the whole policy. `/jit targets` shows what you can request and who approves it.'));
          return;
        }
        case 'doctor':
          if (!(await service.isApprover(userId))) {
            await reply(errorReply('Only approvers can run the doctor. Ask an approver if access seems broken.'));
            return;
          }
          await reply(doctorReply(await doctor()));
          return;
        case 'audit': {
          const audit = parsed.audit;
          if (audit.by === 'bad') {
            // Approvers only: anyone else gets the refusal, not a lesson in the grammar.
            await reply((await service.isApprover(userId)) ? auditUsageReply(audit.problem) : auditRefusedReply());
            return;
          }
          if (audit.by === 'request') {
            if (!isRequestId(audit.id)) {
              warnBadId(log, 'command', audit.id, { userId, sub: 'audit' });
              await reply(badIdReply('command'));
              return;
            }
            await reply(auditTimelineReply(await service.auditRequest(userId, audit.id)));
            return;
          }
          await reply(auditHistoryReply(await service.auditHistory(userId, { subject: audit.subject, ...(audit.since !== undefined ? { since: audit.since } : {}) })));
          return;
        }
        case 'help':
        case 'unknown':
          return; // answered in the ack
      }
    } catch (err) {
      await reply(errorMessage(err, log, { userId, sub: parsed.sub }));
    }
  };
}

/** The answer a command gets from its text alone, or undefined when it needs the core. */
function immediateReply(parsed: ReturnType<typeof parseJitCommand>): { text: string; blocks: unknown[] } | undefined {
  switch (parsed.sub) {
    case 'help':
      return helpText();
    case 'unknown':
      return errorReply(`\`${parsed.word}\` is not a /jit command. Try \`/jit help\`.`);
    case 'revoke':
      if (!parsed.id) return errorReply('Say which request to end: `/jit revoke <id>` (`/jit list` shows your requests and their ids).');
      return isRequestId(parsed.id) ? undefined : badIdReply('command');
    case 'policy':
      return parsed.action === 'check' ? undefined : errorReply('Did you mean `/jit policy check`? It shows the effective approval policy of every target (approvers only).');
    default:
      return undefined;
  }
}
