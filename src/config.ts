/**
 * Configuration: the environment and the YAML policy file, parsed once at start-up. Nothing
 * else in the code base reads process.env. Any problem stops the process with a message that
 * names the key and says what is expected.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { JitConfig } from './config-types';
import { formatDuration, parseDuration } from './domain/duration';
import { ValidationError } from './domain/errors';
import { DEFAULT_RETENTION_MS, MAX_RETENTION_MS, MIN_RETENTION_MS } from './domain/retention';
import { TARGET_NAME_PATTERN, USER_ID_PATTERN } from './domain/ids';
import { normaliseSessionPolicy } from './domain/session-policy';
import { compileReasonRule, MAX_REASON_MESSAGE_LENGTH, reasonPatternProblem, ticketUrlProblem } from './domain/reason';
import { isStsKind, MAX_SSO_ACCOUNTS, type ReasonRule, STS_MAX_DURATION_MS, STS_MIN_DURATION_MS, type Target, type TargetPolicy, type Weekday, WEEKDAYS } from './domain/types';
import { nameMatches, tagsMatch } from './domain/match';
import { DEFAULT_RATE_LIMITS, type RateLimit } from './domain/safety';
import { BUCKET_REFILL_RANGE, BUCKET_SIZE_RANGE, DEFAULT_REVOCATION_CONCURRENCY, EC2_ACTIONS, EC2_DOCUMENTED_BUCKETS, type Ec2Action, REVOCATION_CONCURRENCY_RANGE, type TokenBucketShape } from './domain/revocation-limits';
import { CRASH_SPECS, FAULT_POINTS } from './ports';

export type { JitConfig } from './config-types';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

// ---------------------------------------------------------------- environment

export type SlackMode = { mode: 'http'; signingSecret: string; port: number } | { mode: 'socket'; appToken: string };

export interface EnvConfig {
  slackBotToken: string;
  slack: SlackMode;
  slackApiUrl?: string;
  configPath: string;
  /** The policy YAML itself (JIT_CONFIG_YAML); when set it wins over the file at configPath. */
  configYaml?: string;
  dataDir: string;
  /** When set, a real DynamoDB table (never a silent fall-back to the embedded store). */
  dynamoTable?: string;
  awsRegion?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Fault-injection tests only: kill the process (SIGKILL) at these points (ports.ts CRASH_SPECS). */
  testCrashAt?: string[];
  /** Socket Mode: port of the /healthz, /readyz, /metrics listener (HEALTH_PORT, default 8080; 0 = any free port). */
  healthPort?: number;
  /** /readyz fails at or above this many requests with undelivered notifications (JIT_READY_OUTBOX_MAX, default 500). */
  readyOutboxMax?: number;
  /**
   * Post-ack work and outbox passes through a yield lane of this many slots (JIT_AFTER_ACK_LANE;
   * unset: AFTER_ACK_SLOTS, src/yield-lane.ts): new requests' acks go before background work.
   */
  afterAckLane?: number;
}

const nonEmpty = (hint: string) => z.string({ error: `is required: ${hint}` }).trim().min(1, `is required: ${hint}`);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/** A TCP port from the environment, `fallback` when unset. */
const port = (fallback: number, message: string) =>
  optionalText.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return n;
  });

/**
 * SLACK_API_URL carries the bot token on every call: https, or plain http only to this machine
 * (127.0.0.0/8, ::1, localhost), which is what tests and the demo's local Slack stand-in use.
 */
export function slackApiUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an http(s) URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return 'must be an http(s) URL';
  if (isLoopbackHost(url.hostname)) return undefined;
  return 'must be https (the bot token travels with every call); plain http is allowed only to a loopback address (127.0.0.0/8, ::1, localhost)';
}

/** A URL host name (as `new URL()` normalises it) that can only be this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const envSchema = z
  .object({
    SLACK_BOT_TOKEN: nonEmpty('the bot token (xoxb-…) from OAuth & Permissions').refine((v) => v.startsWith('xoxb-'), 'must be a bot token starting with xoxb-'),
    SLACK_SIGNING_SECRET: optionalText,
    SLACK_APP_TOKEN: optionalText.refine((v) => v === undefined || v.startsWith('xapp-'), 'must be an app-level token starting with xapp-'),
    SLACK_API_URL: optionalText.superRefine((v, ctx) => {
      const problem = v === undefined ? undefined : slackApiUrlProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    PORT: port(3000, 'must be a port number (0–65535)'),
    HEALTH_PORT: port(8080, 'must be a port number (0–65535; 0 = any free port)'),
    JIT_READY_OUTBOX_MAX: optionalText.transform((v, ctx) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) {
        ctx.addIssue({ code: 'custom', message: 'must be a whole number of requests, at least 1' });
        return z.NEVER;
      }
      return n;
    }),
    JIT_AFTER_ACK_LANE: optionalText.transform((v, ctx) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) {
        ctx.addIssue({ code: 'custom', message: 'must be a whole number of slots, at least 1' });
        return z.NEVER;
      }
      return n;
    }),
    JIT_CONFIG: optionalText.transform((v) => v ?? './jit.config.yaml'),
    JIT_CONFIG_YAML: optionalText,
    JIT_DATA_DIR: optionalText.transform((v) => v ?? './data'),
    JIT_DYNAMODB_TABLE: optionalText,
    AWS_REGION: optionalText,
    JIT_TEST_CRASH_AT: optionalText.pipe(
      z
        .string()
        .optional()
        .transform((v) => (v ? v.split(',').map((p) => p.trim()) : undefined))
        .pipe(z.array(z.string().refine((p) => CRASH_SPECS.includes(p), { error: `must list crash points among ${FAULT_POINTS.join(', ')} (after-message-sent:<notification kind> for one kind)` })).optional()),
    ),
    LOG_LEVEL: optionalText.transform((v) => v ?? 'info').pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' })),
  })
  .superRefine((env, ctx) => {
    if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message: 'is required for HTTP mode (Basic Information → Signing Secret); or set SLACK_APP_TOKEN for Socket Mode' });
    }
  });

export function loadEnv(env: NodeJS.ProcessEnv): EnvConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(formatIssues('environment', parsed.error));
  const e = parsed.data;
  return {
    slackBotToken: e.SLACK_BOT_TOKEN,
    slack: e.SLACK_APP_TOKEN ? { mode: 'socket', appToken: e.SLACK_APP_TOKEN } : { mode: 'http', signingSecret: e.SLACK_SIGNING_SECRET!, port: e.PORT },
    slackApiUrl: e.SLACK_API_URL,
    configPath: e.JIT_CONFIG,
    dataDir: e.JIT_DATA_DIR,
    dynamoTable: e.JIT_DYNAMODB_TABLE,
    awsRegion: e.AWS_REGION,
    logLevel: e.LOG_LEVEL,
    ...(e.JIT_TEST_CRASH_AT ? { testCrashAt: e.JIT_TEST_CRASH_AT } : {}),
    ...(e.SLACK_APP_TOKEN ? { healthPort: e.HEALTH_PORT } : {}),
    ...(e.JIT_READY_OUTBOX_MAX !== undefined ? { readyOutboxMax: e.JIT_READY_OUTBOX_MAX } : {}),
    ...(e.JIT_CONFIG_YAML ? { configYaml: e.JIT_CONFIG_YAML } : {}),
    ...(e.JIT_AFTER_ACK_LANE !== undefined ? { afterAckLane: e.JIT_AFTER_ACK_LANE } : {}),
  };
}

// ---------------------------------------------------------------- YAML file

const duration = (example: string) =>
  z.union([z.string(), z.number()], { error: `must be a duration such as ${example}` }).transform((v, ctx) => {
    const ms = parseDuration(String(v));
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration: use forms like 90s, 15m, 1h30m` });
      return z.NEVER;
    }
    return ms;
  });

const slackUserId = z.string().regex(USER_ID_PATTERN, 'must be a Slack user id such as U012ABCDEF (profile → ⋮ → Copy member ID)');
const slackGroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id such as S012ABCDEF (People → User groups → the group → ⋮ → Copy group ID)');
const principals = z
  .object(
    { users: z.array(slackUserId).default([]), groups: z.array(slackGroupId).default([]), everyone: z.boolean().optional() },
    { error: 'must be a mapping with users: [U…] and/or groups: [S…] (or everyone: true)' },
  )
  .strict();
const tagMap = z.record(z.string().min(1).max(128), z.string().max(256), { error: 'must be a mapping of tag names to values, e.g. { ENV: prod }' });
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a 24-hour time such as 08:00 or 18:30');
const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Europe/London or UTC');
const windowSchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS as [Weekday, ...Weekday[]], { error: `must list days among ${WEEKDAYS.join(', ')}` })).min(1).default([...WEEKDAYS]),
    from: clockTime,
    to: clockTime,
    timezone: timezone.default('UTC'),
  })
  .strict();
const ruleName = z.string().regex(/^[A-Za-z0-9][\w.-]{0,62}$/, 'must be 1–63 letters, digits, ".", "_" or "-"');
const ruleMatch = {
  targets: z.array(z.string().regex(/^[a-z0-9.*_-]{1,63}$/, 'must be a target name, optionally with * wildcards (prod-*)')).min(1).optional(),
  tags: tagMap.optional(),
  requesters: principals.optional(),
  window: windowSchema.optional(),
};
const hasSelector = (r: { targets?: unknown; tags?: unknown; requesters?: unknown; window?: unknown }) => r.targets !== undefined || r.tags !== undefined || r.requesters !== undefined || r.window !== undefined;
const denyRuleSchema = z
  .object({ name: ruleName, ...ruleMatch, message: z.string().max(300).optional() })
  .strict()
  .refine(hasSelector, { message: 'needs at least one of targets, tags, requesters or window (a rule that matches everything would refuse every request)', path: ['targets'] });
const autoApproveSchema = z
  .object({ name: ruleName, ...ruleMatch, maxDuration: duration('1h') })
  .strict()
  .refine((r) => r.targets !== undefined || r.tags !== undefined, { message: 'needs targets or tags: say which targets are auto-approved', path: ['targets'] });
const remindersSchema = z.object({ every: duration('10m'), dm: z.boolean().default(false) }).strict();
/** Policy keys a target may set for itself; the `defaults` section sets them for every target. */
const policyKeys = {
  approvers: principals.optional(),
  approvalsRequired: z.number().int().min(1).max(10).optional(),
  requesters: principals.optional(),
  approvalTimeout: duration('30m').optional(),
  reminders: remindersSchema.optional(),
  breakGlass: z.boolean().optional(),
  maxTotalDuration: duration('8h').optional(),
};

/** A reason requirement: the pattern must compile and look safe (checked in parseConfig, by key). */
const reasonSchema = z
  .object(
    {
      pattern: z.string({ error: 'is required: a regular expression the reason must match, e.g. ^[A-Z]+-[0-9]+' }).min(1, 'must not be empty'),
      message: z.string({ error: 'is required: what to write, shown when a reason does not match (e.g. Start with a ticket key such as OPS-123)' }).trim().min(1, 'must not be empty').max(MAX_REASON_MESSAGE_LENGTH),
    },
    { error: 'must be { pattern: <regular expression>, message: <what to write> }, or false (no requirement here)' },
  )
  .strict();
const reasonKey = z.union([reasonSchema, z.literal(false)], { error: 'must be { pattern: <regular expression>, message: <what to write> }, or false (no requirement here)' });

const targetBase = {
  name: z.string().regex(TARGET_NAME_PATTERN, 'must be 1–63 lower-case letters, digits, ".", "_" or "-"'),
  description: z.string().max(200).optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1').optional(),
  minDuration: duration('5m').optional(),
  maxDuration: duration('4h').optional(),
  tags: tagMap.default({}),
  ...policyKeys,
  reason: reasonKey.optional(),
  ticketUrl: z.string().max(500).optional(),
};
const roleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/ReadOnly');
const externalId = z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2–1224 characters of letters, digits and +=,.@:/-').optional();

/** A target in another account: the role the bot assumes there, and its external id. */
const crossAccountKeys = { assumeRoleArn: roleArn.optional(), assumeRoleExternalId: externalId };
const externalIdNeedsRole: [(t: { assumeRoleArn?: string; assumeRoleExternalId?: string }) => boolean, { message: string; path: string[] }] = [
  (t) => t.assumeRoleExternalId === undefined || t.assumeRoleArn !== undefined,
  { message: 'is only used with assumeRoleArn (the role the bot assumes in the other account)', path: ['assumeRoleExternalId'] },
];
/** The target's assumeRole, from its keys. */
const assumeRoleOf = (t: { assumeRoleArn?: string; assumeRoleExternalId?: string }) =>
  t.assumeRoleArn ? { assumeRole: { roleArn: t.assumeRoleArn, ...(t.assumeRoleExternalId ? { externalId: t.assumeRoleExternalId } : {}) } } : {};

const ec2TargetSchema = z
  .object({
    ...targetBase,
    kind: z.literal('ec2-ssh'),
    securityGroupId: z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id such as sg-0123456789abcdef0'),
    port: z.number().int().min(1).max(65535).default(22),
    host: z.string().max(255).optional(),
    sshUser: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, 'must be a login name').optional(),
    ...crossAccountKeys,
  })
  .strict()
  .refine(...externalIdNeedsRole);

const roleTargetSchema = z
  .object({
    ...targetBase,
    kind: z.literal('aws-role'),
    roleArn,
    ...crossAccountKeys,
    /** Inline JSON, a YAML mapping, or a path to a JSON file (relative to the config file). */
    sessionPolicy: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    externalId,
  })
  .strict()
  .refine(...externalIdNeedsRole);

const ssmTargetSchema = z
  .object({
    ...targetBase,
    kind: z.literal('ssm-session'),
    roleArn,
    externalId,
    instanceIds: z.array(z.string().regex(/^m?i-[0-9a-f]{8,17}$/, 'must be an instance or managed-node id such as i-0123456789abcdef0')).default([]),
    nodeTags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
    documentName: z.string().regex(/^[a-zA-Z0-9_.:/-]{3,128}$/, 'must be an SSM document name').default('SSM-SessionManagerRunShell'),
    ...crossAccountKeys,
  })
  .strict()
  .refine(...externalIdNeedsRole)
  .refine((t) => t.instanceIds.length > 0 || Object.keys(t.nodeTags).length > 0, {
    message: 'needs instanceIds or nodeTags to say which nodes (`tags` are the target\'s policy labels)',
    path: ['instanceIds'],
  });

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id (quote it in YAML)');
const ssoInstanceArn = /^arn:aws[a-z-]*:sso:::instance\/((?:sso)?ins-[a-zA-Z0-9-.]{16})$/;
const ssoTargetSchema = z
  .object({
    ...targetBase,
    kind: z.literal('sso-permission-set'),
    instanceArn: z.string().regex(ssoInstanceArn, 'must be an IAM Identity Center instance ARN such as arn:aws:sso:::instance/ssoins-1234567890abcdef'),
    identityStoreId: z.string().regex(/^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/, "must be the instance's Identity Store id such as d-1234567890"),
    permissionSetArn: z.string().regex(/^arn:aws[a-z-]*:sso:::permissionSet\/(?:sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/, 'must be a permission set ARN such as arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef'),
    accountId: accountId.optional(),
    accountIds: z.array(accountId).min(1, 'must name at least one account').max(MAX_SSO_ACCOUNTS, `at most ${MAX_SSO_ACCOUNTS} accounts per target`).optional(),
    portalUrl: z.string().max(300).regex(/^https:\/\/[^\s<>|]+$/, 'must be an https URL such as https://d-1234567890.awsapps.com/start').optional(),
    accountsPerRequest: z.number().int().min(1, 'must be at least 1').max(MAX_SSO_ACCOUNTS, `at most ${MAX_SSO_ACCOUNTS}`).optional(),
    endSessions: z.boolean().optional(),
  })
  .strict()
  .refine((t) => (t.accountId === undefined) !== (t.accountIds === undefined), { message: 'name the account (accountId) or the accounts (accountIds, a request picks among them), not both', path: ['accountIds'] })
  .refine((t) => t.accountsPerRequest === undefined || t.accountIds !== undefined, { message: 'only a target with accountIds lets a request pick accounts', path: ['accountsPerRequest'] })
  .refine((t) => t.permissionSetArn.includes(`/${ssoInstanceArn.exec(t.instanceArn)?.[1] ?? ''}/`), { message: 'must be a permission set of instanceArn (its ARN names the same ssoins-… id)', path: ['permissionSetArn'] });

const targetSchema = z.discriminatedUnion('kind', [ec2TargetSchema, roleTargetSchema, ssmTargetSchema, ssoTargetSchema], { error: 'kind must be ec2-ssh, aws-role, ssm-session or sso-permission-set' });

const SHUTDOWN_GRACE_MS = 10_000;
/** ECS stops a task 30 s after SIGTERM (stopTimeout, infra/): the grace, the hand-back and the exit fit in that. */
export const MAX_SHUTDOWN_GRACE_MS = 20_000;
const DEFAULTS = { minDuration: 5 * 60_000, maxDuration: 4 * 3_600_000, approvalTimeout: 30 * 60_000, expiryWarning: 5 * 60_000, approvalsRequired: 1, breakGlass: false };

const rateLimit = (d: RateLimit, example: string) =>
  z
    .object({ max: z.number().int().min(1).max(100).default(d.max), per: duration(example).default(d.perMs) })
    .strict()
    .default({ max: d.max, per: d.perMs });
const R = DEFAULT_RATE_LIMITS;

/** aws.ec2RateLimits: per EC2 action, the bucket EC2 applies to this account and Region (defaults: EC2_DOCUMENTED_BUCKETS). */
const bucketSchema = z.object({ size: z.number({ error: 'must be a number of tokens such as 200' }).optional(), refillPerSecond: z.number({ error: 'must be tokens per second such as 5' }).optional() }).strict();
const ec2RateLimitsSchema = z.object(Object.fromEntries(EC2_ACTIONS.map((a) => [a, bucketSchema.optional()])) as Record<Ec2Action, z.ZodOptional<typeof bucketSchema>>).strict();

const fileSchema = z
  .object({
    /** Guests may request and approve (issue 10): off unless said. */
    allowGuests: z.boolean().default(false),
    rateLimits: z
      .object({ requests: rateLimit(R.requests, '1h'), breakGlass: rateLimit(R.breakGlass, '24h') })
      .strict()
      .default({ requests: { max: R.requests.max, per: R.requests.perMs }, breakGlass: { max: R.breakGlass.max, per: R.breakGlass.perMs } }),
    approverChannel: z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel id such as C012ABCDEF (channel details → About)'),
    auditChannel: z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel id such as C012ABCDEF (channel details → About)').optional(),
    approvers: principals.optional(),
    requesters: principals.optional(),
    defaults: z
      .object({
        minDuration: duration('5m').default(DEFAULTS.minDuration),
        maxDuration: duration('4h').default(DEFAULTS.maxDuration),
        approvalTimeout: duration('30m').default(DEFAULTS.approvalTimeout),
        expiryWarning: duration('5m').default(DEFAULTS.expiryWarning),
        approvalsRequired: z.number().int().min(1).max(10).default(DEFAULTS.approvalsRequired),
        reminders: remindersSchema.optional(),
        breakGlass: z.boolean().default(DEFAULTS.breakGlass),
        maxTotalDuration: duration('8h').optional(),
        reason: reasonKey.optional(),
        ticketUrl: z.string().max(500).optional(),
      })
      .strict()
      .default(DEFAULTS),
    denyRules: z.array(denyRuleSchema).default([]),
    autoApprove: z.array(autoApproveSchema).default([]),
    revocation: z
      .object({ sweepInterval: duration('5s').default(5_000), driftInterval: duration('5m').default(5 * 60_000), lease: duration('1m').default(60_000), shutdownGrace: duration('10s').default(SHUTDOWN_GRACE_MS), concurrency: z.number({ error: 'must be a whole number such as 32' }).int('must be a whole number such as 32').default(DEFAULT_REVOCATION_CONCURRENCY) })
      .strict()
      .default({ sweepInterval: 5_000, driftInterval: 5 * 60_000, lease: 60_000, shutdownGrace: SHUTDOWN_GRACE_MS, concurrency: DEFAULT_REVOCATION_CONCURRENCY }),
    aws: z.object({ ec2RateLimits: ec2RateLimitsSchema.default({}) }).strict().default({ ec2RateLimits: {} }),
    targets: z.array(targetSchema).min(1, 'needs at least one target'),
    /** How long resolved requests are kept before DynamoDB TTL may delete them (purgeAt). */
    retention: duration('400d').default(DEFAULT_RETENTION_MS),
  })
  .strict();

export function parseConfig(text: string, source = 'config', baseDir = '.'): JitConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(formatIssues(source, parsed.error));
  const c = parsed.data;
  const problems: string[] = [];
  if (c.defaults.minDuration > c.defaults.maxDuration) problems.push('defaults.minDuration: is longer than defaults.maxDuration');
  if (c.revocation.sweepInterval < 1_000 || c.revocation.sweepInterval > 60_000) problems.push('revocation.sweepInterval: must be between 1s and 60s');
  if (c.revocation.driftInterval < 10_000) problems.push('revocation.driftInterval: must be at least 10s');
  if (c.revocation.shutdownGrace > MAX_SHUTDOWN_GRACE_MS) problems.push(`revocation.shutdownGrace: must be at most ${formatDuration(MAX_SHUTDOWN_GRACE_MS)} (the container is stopped 30 s after SIGTERM)`);
  if (c.retention < MIN_RETENTION_MS || c.retention > MAX_RETENTION_MS) problems.push(`retention: must be between ${formatDuration(MIN_RETENTION_MS)} and ${formatDuration(MAX_RETENTION_MS)} (resolved requests are kept this long for audit, then purged)`);
  if (c.revocation.concurrency < REVOCATION_CONCURRENCY_RANGE.min || c.revocation.concurrency > REVOCATION_CONCURRENCY_RANGE.max) problems.push(`revocation.concurrency: must be between ${REVOCATION_CONCURRENCY_RANGE.min} and ${REVOCATION_CONCURRENCY_RANGE.max} (revocations run at once, in their own lane)`);
  for (const [action, b] of Object.entries(c.aws.ec2RateLimits)) {
    if (b.size !== undefined && (b.size < BUCKET_SIZE_RANGE.min || b.size > BUCKET_SIZE_RANGE.max)) problems.push(`aws.ec2RateLimits.${action}.size: must be between ${BUCKET_SIZE_RANGE.min} and ${BUCKET_SIZE_RANGE.max} tokens`);
    if (b.refillPerSecond !== undefined && (b.refillPerSecond < BUCKET_REFILL_RANGE.min || b.refillPerSecond > BUCKET_REFILL_RANGE.max)) problems.push(`aws.ec2RateLimits.${action}.refillPerSecond: must be between ${BUCKET_REFILL_RANGE.min} and ${BUCKET_REFILL_RANGE.max} tokens per second`);
  }
  if (c.revocation.lease < 2_000 || c.revocation.lease > 10 * 60_000) problems.push('revocation.lease: must be between 2s and 10m (longer than one AWS call with its retries)');
  for (const k of ['requests', 'breakGlass'] as const) {
    const per = c.rateLimits[k].per;
    if (per < 60_000 || per > 30 * 86_400_000) problems.push(`rateLimits.${k}.per: must be between 1m and 30d`);
  }
  const defaultReason = reasonRule(c.defaults.reason, c.defaults.ticketUrl, 'defaults', problems);
  const seen = new Set<string>();
  const defaultApprovers = c.approvers ?? { users: [], groups: [] };
  const targets: Target[] = c.targets.map((t, i) => {
    const at = `targets[${i}]`;
    if (seen.has(t.name)) problems.push(`${at}.name: "${t.name}" is used by another target`);
    seen.add(t.name);
    const sts = isStsKind(t.kind);
    if (sts && t.minDuration !== undefined && t.minDuration < STS_MIN_DURATION_MS) problems.push(`${at}.minDuration: ${t.kind} targets cannot be shorter than 15m (the STS minimum)`);
    if (sts && t.maxDuration !== undefined && t.maxDuration > STS_MAX_DURATION_MS) problems.push(`${at}.maxDuration: ${t.kind} targets cannot be longer than 12h (the STS maximum)`);
    // Role-backed kinds never go below STS's 15 minutes, whatever the defaults say.
    const minDurationMs = t.minDuration ?? (sts ? Math.max(STS_MIN_DURATION_MS, c.defaults.minDuration) : c.defaults.minDuration);
    const maxDurationMs = t.maxDuration ?? (sts ? Math.min(STS_MAX_DURATION_MS, c.defaults.maxDuration) : c.defaults.maxDuration);
    if (minDurationMs > maxDurationMs) problems.push(`${at}.minDuration: is longer than the target's maxDuration`);
    const policy: TargetPolicy = {
      approvers: t.approvers ?? defaultApprovers,
      approvalsRequired: t.approvalsRequired ?? c.defaults.approvalsRequired,
      ...(t.requesters ?? c.requesters ? { requesters: t.requesters ?? c.requesters } : {}),
      approvalTimeoutMs: t.approvalTimeout ?? c.defaults.approvalTimeout,
      ...(t.reminders ?? c.defaults.reminders ? { reminders: toReminders((t.reminders ?? c.defaults.reminders)!) } : {}),
      breakGlass: t.breakGlass ?? c.defaults.breakGlass,
      maxTotalDurationMs: t.maxTotalDuration ?? c.defaults.maxTotalDuration ?? 2 * maxDurationMs,
      ...targetReason(t, defaultReason, c.defaults.ticketUrl, at, problems),
    };
    checkPolicy(policy, maxDurationMs, at, t.approvers ? `${at}.approvers` : 'approvers', problems);
    if (policy.breakGlass && !policy.requesters) problems.push(`${at}.requesters: required because breakGlass is true${t.breakGlass === undefined ? ' (defaults.breakGlass)' : ''}; name users/groups (here or at the top level), or everyone: true`);
    const common = { name: t.name, description: t.description, region: t.region, minDurationMs, maxDurationMs, tags: t.tags, policy };
    switch (t.kind) {
      case 'ec2-ssh':
        return {
          ...common,
          kind: t.kind,
          securityGroupId: t.securityGroupId,
          port: t.port,
          host: t.host,
          sshUser: t.sshUser,
          ...assumeRoleOf(t),
        };
      case 'aws-role':
        return { ...common, kind: t.kind, roleArn: t.roleArn, externalId: t.externalId, sessionPolicy: sessionPolicy(t.sessionPolicy, `${at}.sessionPolicy`, baseDir, problems), ...assumeRoleOf(t) };
      case 'ssm-session':
        return { ...common, kind: t.kind, roleArn: t.roleArn, externalId: t.externalId, instanceIds: t.instanceIds, nodeTags: t.nodeTags, documentName: t.documentName, ...assumeRoleOf(t) };
      case 'sso-permission-set':
        return { ...common, kind: t.kind, instanceArn: t.instanceArn, identityStoreId: t.identityStoreId, permissionSetArn: t.permissionSetArn, accountIds: [...new Set(t.accountIds ?? [t.accountId!])], accountsPerRequest: Math.min(t.accountsPerRequest ?? MAX_SSO_ACCOUNTS, new Set(t.accountIds ?? [t.accountId!]).size), portalUrl: t.portalUrl, endSessions: t.endSessions ?? false };
    }
  });
  const ruleNames = new Set<string>();
  const checkRules = (rules: { name: string; targets?: string[] }[], key: string) =>
    rules.forEach((r, i) => {
      if (ruleNames.has(r.name)) problems.push(`${key}[${i}].name: "${r.name}" is used by another rule`);
      ruleNames.add(r.name);
      for (const pattern of r.targets ?? []) {
        if (!targets.some((t) => nameMatches(pattern, t.name))) problems.push(`${key}[${i}].targets: "${pattern}" matches no target`);
      }
    });
  checkRules(c.denyRules, 'denyRules');
  checkRules(c.autoApprove, 'autoApprove');
  c.autoApprove.forEach((r, i) => {
    if (r.maxDuration <= 0) problems.push(`autoApprove[${i}].maxDuration: must be longer than 0`);
  });
  // Safe by default: nobody gets instant access unless someone named them (or wrote everyone: true).
  targets.forEach((t, j) => {
    if (t.policy.requesters) return;
    const open = c.autoApprove.flatMap((r, i) => (!r.requesters && (!r.targets || r.targets.some((p) => nameMatches(p, t.name))) && (!r.tags || tagsMatch(r.tags, t.tags)) ? [`autoApprove[${i}] (${r.name})`] : []));
    if (open.length > 0) problems.push(`targets[${j}].requesters: required because ${open.join(', ')} can match it; name users/groups on the target, at the top level or on the rule, or everyone: true`);
  });
  for (const [key, p] of [['approvers', c.approvers], ...c.targets.map((t, i) => [`targets[${i}].approvers`, t.approvers] as const)] as const) {
    if (p?.everyone) problems.push(`${key}.everyone: approvers must be named (users and/or groups); everyone is only for requesters`);
  }
  if (problems.length > 0) throw new ConfigError(`${source} is invalid:\n  - ${problems.join('\n  - ')}`);
  return {
    approverChannel: c.approverChannel,
    ...(c.auditChannel !== undefined ? { auditChannel: c.auditChannel } : {}),
    approvers: defaultApprovers,
    defaults: {
      minDurationMs: c.defaults.minDuration,
      maxDurationMs: c.defaults.maxDuration,
      approvalTimeoutMs: c.defaults.approvalTimeout,
      expiryWarningMs: c.defaults.expiryWarning,
    },
    denyRules: c.denyRules.map((r) => ({ ...r })),
    autoApprove: c.autoApprove.map(({ maxDuration, ...r }) => ({ ...r, maxDurationMs: maxDuration })),
    revocation: { sweepIntervalSeconds: Math.round(c.revocation.sweepInterval / 1000), driftIntervalMs: c.revocation.driftInterval, leaseMs: c.revocation.lease, shutdownGraceMs: c.revocation.shutdownGrace, concurrency: c.revocation.concurrency },
    aws: { ec2RateLimits: Object.fromEntries(EC2_ACTIONS.map((a) => [a, { ...EC2_DOCUMENTED_BUCKETS[a], ...c.aws.ec2RateLimits[a] }])) as Record<Ec2Action, TokenBucketShape> },
    targets,
    retentionMs: c.retention,
    allowGuests: c.allowGuests,
    rateLimits: {
      requests: { max: c.rateLimits.requests.max, perMs: c.rateLimits.requests.per },
      breakGlass: { max: c.rateLimits.breakGlass.max, perMs: c.rateLimits.breakGlass.per },
    },
  };
}

/**
 * A reason rule compiled once (pattern, message, ticketUrl), or undefined; problems are named by
 * key (`<at>.reason.pattern`, `<at>.ticketUrl`).
 */
function reasonRule(reason: { pattern: string; message: string } | false | undefined, ticketUrl: string | undefined, at: string, problems: string[]): ReasonRule | undefined {
  if (ticketUrl !== undefined) {
    const problem = ticketUrlProblem(ticketUrl);
    if (problem) problems.push(`${at}.ticketUrl: ${problem}`);
    // defaults.ticketUrl alone serves the targets that set their own reason pattern.
    if (!reason && at !== 'defaults') problems.push(`${at}.ticketUrl: needs a reason pattern (${at}.reason): the ticket key is taken from the reason`);
  }
  if (!reason) return undefined;
  const problem = reasonPatternProblem(reason.pattern);
  if (problem) {
    problems.push(`${at}.reason.pattern: ${problem}`);
    return undefined;
  }
  return compileReasonRule({ ...reason, ...(ticketUrl !== undefined ? { ticketUrl } : {}) });
}

/**
 * A target's reason rule: its own (`reason`, with its own ticketUrl or the default one), none
 * (`reason: false`), or the default's (a target's ticketUrl alone links the default's pattern).
 */
function targetReason(
  t: { reason?: { pattern: string; message: string } | false; ticketUrl?: string },
  defaults: ReasonRule | undefined,
  defaultTicketUrl: string | undefined,
  at: string,
  problems: string[],
): { reason?: ReasonRule } {
  if (t.reason === false) {
    if (t.ticketUrl !== undefined) problems.push(`${at}.ticketUrl: needs a reason pattern, but ${at}.reason is false`);
    return {};
  }
  if (t.reason) {
    const rule = reasonRule(t.reason, t.ticketUrl, at, problems);
    if (!rule) return {};
    // defaults.ticketUrl was checked with the defaults.
    const inherited = t.ticketUrl === undefined && defaultTicketUrl !== undefined && !ticketUrlProblem(defaultTicketUrl) ? { ticketUrl: defaultTicketUrl } : {};
    return { reason: { ...rule, ...inherited } };
  }
  if (t.ticketUrl === undefined) return defaults ? { reason: defaults } : {};
  const problem = ticketUrlProblem(t.ticketUrl);
  if (problem) problems.push(`${at}.ticketUrl: ${problem}`);
  if (!defaults) {
    problems.push(`${at}.ticketUrl: needs a reason pattern (${at}.reason or defaults.reason): the ticket key is taken from the reason`);
    return {};
  }
  return { reason: { ...defaults, ticketUrl: t.ticketUrl } };
}

function toReminders(r: { every: number; dm: boolean }): { everyMs: number; dm: boolean } {
  return { everyMs: r.every, dm: r.dm };
}

/** Problems with a target's effective policy, named by the key that would fix them. */
function checkPolicy(p: TargetPolicy, maxDurationMs: number, at: string, approversKey: string, problems: string[]): void {
  const named = p.approvers.users.length + p.approvers.groups.length;
  if (named === 0) problems.push(`${at}.approvers: nobody can approve this target: set approvers (users and/or groups) on it or at the top level`);
  else if (p.approvers.groups.length === 0 && new Set(p.approvers.users).size < p.approvalsRequired) {
    problems.push(`${approversKey}: ${p.approvalsRequired} approvals are required for ${at} but only ${new Set(p.approvers.users).size} approver(s) are named`);
  }
  if (p.approvalTimeoutMs < 60_000) problems.push(`${at}.approvalTimeout: must be at least 1m`);
  if (p.reminders && p.reminders.everyMs < 60_000) problems.push(`${at}.reminders.every: must be at least 1m`);
  if (p.reminders && p.reminders.everyMs >= p.approvalTimeoutMs) problems.push(`${at}.reminders.every: is not shorter than the approval timeout (${formatDuration(p.approvalTimeoutMs)}), so no reminder would be sent`);
  if (p.maxTotalDurationMs < maxDurationMs) problems.push(`${at}.maxTotalDuration: is shorter than the target's maxDuration (${formatDuration(maxDurationMs)})`);
}

export function loadConfigFile(path: string): JitConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`JIT_CONFIG: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); copy jit.config.example.yaml to ${path} or point JIT_CONFIG at your file`);
  }
  return parseConfig(text, path, dirname(path));
}

/**
 * The policy the bot runs with: the YAML text of JIT_CONFIG_YAML when it is set (e.g. injected
 * from an SSM parameter, so a change needs a restart, not a new image), else the file at
 * JIT_CONFIG. Errors name the source. Session-policy file paths in JIT_CONFIG_YAML are relative
 * to the working directory.
 */
export function loadBotConfig(env: Pick<EnvConfig, 'configPath' | 'configYaml'>): JitConfig {
  return env.configYaml !== undefined ? parseConfig(env.configYaml, 'JIT_CONFIG_YAML', '.') : loadConfigFile(env.configPath);
}

/** A session policy given inline (JSON text or a YAML mapping) or as a file path; minified and checked. */
function sessionPolicy(value: string | Record<string, unknown> | undefined, key: string, baseDir: string, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  let json: string;
  if (typeof value !== 'string') json = JSON.stringify(value);
  else if (value.trim().startsWith('{')) json = value;
  else {
    const file = resolvePath(baseDir, value);
    try {
      json = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return undefined;
    }
  }
  try {
    return normaliseSessionPolicy(json);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    problems.push(`${key}: ${err.message}`);
    return undefined;
  }
}

function formatIssues(source: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => `${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[') || '(top level)'}: ${issue.message}`);
  return `${source} is invalid:\n  - ${lines.join('\n  - ')}`;
}
