#!/usr/bin/env node
/**
 * CDK app entry point. Every setting comes from CDK context (cdk.json, overridden on the command
 * line with `-c key=value`), so `cdk synth` needs no AWS credentials and no network:
 *
 *   account, region              target environment (cdk.json holds placeholders for offline synth)
 *   managedSecurityGroupIds      sg ids the bot may open/close: JSON array in cdk.json, or comma-separated with -c
 *   desiredCount                 replicas (default 2)
 *   tableName                    physical table name (default: generated)
 *   vpcId                        use an existing VPC instead of creating one (needs a context lookup)
 *   slackSecretName              existing Secrets Manager secret with SLACK_BOT_TOKEN / SLACK_APP_TOKEN
 *   configFile                   the bot policy YAML stored in the stack's SSM parameter (default ../jit.config.yaml)
 *   configParameterName          instead: an existing SSM String parameter holding the policy YAML
 *   imageRepositoryName, imageTag  run an existing ECR image instead of building ../Dockerfile
 *   stackName                    default JitBotStack
 */
import { App, Tags } from 'aws-cdk-lib';
import { botConfigFromContext } from '../lib/bot-config';
import { JitBotStack, type JitBotStackProps } from '../lib/jit-bot-stack';

const app = new App();

function text(key: string): string | undefined {
  const v: unknown = app.node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  return String(v).trim();
}

function list(key: string): string[] {
  const v: unknown = app.node.tryGetContext(key);
  if (Array.isArray(v)) return v.map((x) => String(x).trim()).filter(Boolean);
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.startsWith('[')) return (JSON.parse(s) as unknown[]).map((x) => String(x).trim()).filter(Boolean);
    return s.split(',').map((x) => x.trim()).filter(Boolean);
  }
  return [];
}

function integer(key: string): number | undefined {
  const v = text(key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`context ${key} must be an integer, got ${v}`);
  return n;
}

/** identityCenter: instance and Identity Store, with the permission sets and accounts sso-permission-set targets assign. */
function identityCenterFromContext(): JitBotStackProps['identityCenter'] {
  const instanceArn = text('ssoInstanceArn');
  if (!instanceArn) return undefined;
  return { instanceArn, identityStoreId: text('identityStoreId') ?? '', permissionSetArns: list('ssoPermissionSetArns'), accountIds: list('ssoAccountIds'), endSessions: String(app.node.tryGetContext('ssoEndSessions') ?? 'false') === 'true' };
}

const stack = new JitBotStack(app, text('stackName') ?? 'JitBotStack', {
  env: {
    account: text('account') ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: text('region') ?? process.env.CDK_DEFAULT_REGION,
  },
  description: 'jit-access-bot: just-in-time AWS access from Slack (DynamoDB table, ECS Fargate service)',
  managedSecurityGroupIds: list('managedSecurityGroupIds'),
  managedRoleArns: app.node.tryGetContext('managedRoleArns') === undefined ? [] : list('managedRoleArns'),
  ssmTargets: String(app.node.tryGetContext('ssmTargets') ?? 'false') === 'true',
  identityCenter: identityCenterFromContext(),
  memberAccountRoleArns: list('memberAccountRoleArns'),
  desiredCount: integer('desiredCount'),
  tableName: text('tableName'),
  vpcId: text('vpcId'),
  slackSecretName: text('slackSecretName'),
  botConfig: botConfigFromContext({ configFile: text('configFile'), configParameterName: text('configParameterName') }),
  imageRepositoryName: text('imageRepositoryName'),
  imageTag: text('imageTag'),
});
Tags.of(stack).add('app', 'jit-access-bot');

app.synth();
