/**
 * Names the bot's code uses that the task role's IAM conditions rely on. No imports: the bot's own
 * tests (test/aws/iam-names.test.ts at the repository root) import this file and check that the
 * adapters really send these tags, name sessions this way and delete only these items. Change a
 * name here and in src/ together.
 */

/** The tags src/aws/ec2-ssh.ts puts on every rule it creates (TagSpecifications, prefix "jit"). */
export const RULE_TAG_KEYS = {
  requestId: 'jit:request-id',
  requester: 'jit:requester',
  expiresAt: 'jit:expires-at',
  managedBy: 'jit:managed-by',
} as const;

/** The value of the managed-by tag (src/aws/ec2-ssh.ts MANAGED_BY). */
export const MANAGED_BY = 'jit-access-bot';

/**
 * SSM session ids of the people a grant let in: SSM names a session "<RoleSessionName>-<random>",
 * and the bot's RoleSessionName is "<human>.<request id>" with request ids "jit-…"
 * (src/aws/sts-session.ts roleSessionName). The bot may end only sessions whose id matches.
 */
export const SESSION_ID_PATTERN = '*.jit-*';

/** The only items the bot deletes: its rule-holder bookkeeping (src/store/dynamo.ts, pk "RULE#…"). */
export const DELETABLE_KEY_PATTERN = 'RULE#*';
