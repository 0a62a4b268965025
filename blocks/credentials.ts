/**
 * The credentials modal of role-backed kinds (aws-role, ssm-session), opened by "Show
 * credentials" in the grant DM. Credentials appear here and nowhere else: a modal is private to
 * the person who opened it and is not kept in the chat history.
 *
 * Credentials are never cut: every line is shown whole, split over several sections when a
 * session token is long, and the builder throws rather than show a credential cut short.
 */
import type { KnownBlock, ModalView, SectionBlock } from '@slack/types';
import type { AccessRequest, IssuedCredentials } from '../src/domain/types';
import { ARN_MAX, NAME_MAX, requestId, targetName, when } from './common';
import { CALLBACK_CREDENTIALS_MODAL } from './ids';
import { context, plain, section } from './kit';
import { code, escapeText, LIMITS } from './text';

/** Longest profile name we write (AWS accepts more; a short one is easier to type). */
const PROFILE_MAX = 64;
const FENCE = '```';

/** Thrown when credentials cannot be shown whole (a value would not fit a section, or would break its code block). */
export class CredentialsDisplayError extends Error {
  override readonly name = 'CredentialsDisplayError';
}

/**
 * The ~/.aws/credentials profile name for a request: "jit-" and the target name, with anything
 * other than letters, digits, '.', '_' and '-' replaced by '-' (so it is safe inside "[…]").
 */
export function credentialsProfile(request: Pick<AccessRequest, 'targetName'>): string {
  const name = request.targetName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return `jit-${name || 'access'}`.slice(0, PROFILE_MAX).replace(/-+$/, '');
}

/** The modal showing `creds` for `request`: export lines, a credentials-file profile, expiry and identity. */
export function credentialsModal(request: AccessRequest, creds: IssuedCredentials): ModalView {
  const accessKeyId = credential('access key id', creds.accessKeyId);
  const secretAccessKey = credential('secret access key', creds.secretAccessKey);
  const sessionToken = credential('session token', creds.sessionToken);
  const region = credential('region', creds.region);
  const profile = credentialsProfile(request);

  const blocks: KnownBlock[] = [
    section(
      `🔑 Temporary AWS credentials for ${targetName(request)} (${requestId(request)}).\n` +
        `Expires ${when(request, creds.expiration)} · assumed role ${code(creds.assumedRoleArn, ARN_MAX)}`,
    ),
    ...codeSections('*Shell*: paste into your terminal', '*Shell* (continued)', [
      `export AWS_ACCESS_KEY_ID=${accessKeyId}`,
      `export AWS_SECRET_ACCESS_KEY=${secretAccessKey}`,
      `export AWS_SESSION_TOKEN=${sessionToken}`,
      `export AWS_REGION=${region}`,
    ]),
    ...codeSections(`*Profile*: add to ${code('~/.aws/credentials')}, then use ${code(`--profile ${profile} --region ${creds.region}`, NAME_MAX + 40)}`, '*Profile* (continued)', [
      `[${profile}]`,
      `aws_access_key_id = ${accessKeyId}`,
      `aws_secret_access_key = ${secretAccessKey}`,
      `aws_session_token = ${sessionToken}`,
    ]),
    context(
      'These credentials are not stored by the bot and this window is not kept in the chat history. ' +
        'Press *Show credentials* again for a fresh set; every set stops working when access ends.',
    ),
  ];
  return {
    type: 'modal',
    callback_id: CALLBACK_CREDENTIALS_MODAL,
    title: plain('AWS credentials', LIMITS.modalTitle),
    close: plain('Done', LIMITS.modalButton),
    blocks,
  };
}

/**
 * A credential for a code block: escaped (harmless for the [A-Za-z0-9/+=] AWS uses), refused when
 * empty or when it holds a backtick or whitespace (it would end the code block or the line).
 */
function credential(what: string, value: string): string {
  if (value === '' || /[`\s]/.test(value)) throw new CredentialsDisplayError(`The ${what} cannot be shown: it is empty or has characters a code block cannot hold.`);
  return escapeText(value);
}

/**
 * `label` and `lines` as code blocks, packing whole lines into as few sections as fit Slack's
 * section limit; sections after the first are headed by `continued`. Never cuts a line: throws
 * when one line alone cannot fit a section.
 */
function codeSections(label: string, continued: string, lines: string[]): SectionBlock[] {
  const render = (head: string, body: string[]) => `${head}\n${FENCE}${body.join('\n')}${FENCE}`;
  const texts: string[] = [];
  let head = label;
  let body: string[] = [];
  for (const line of lines) {
    if (body.length > 0 && render(head, [...body, line]).length > LIMITS.sectionText) {
      texts.push(render(head, body));
      head = continued;
      body = [];
    }
    if (render(head, [line]).length > LIMITS.sectionText) {
      throw new CredentialsDisplayError(`A credential is too long to show whole in Slack (a line of ${line.length} characters).`);
    }
    body.push(line);
  }
  if (body.length > 0) texts.push(render(head, body));
  return texts.map(section);
}
