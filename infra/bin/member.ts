/**
 * The member-account role of cross-account ec2-ssh targets (lib/member-account-role.ts):
 *   npx cdk deploy -a "npx ts-node bin/member.ts" -c botRoleArn=… -c externalId=… \
 *     [-c managedSecurityGroupIds=sg-…,sg-…] [-c managedRoleArns=arn:…,arn:…] [-c ssmTargets=true]
 * run with the member account's credentials.
 */
import { App } from 'aws-cdk-lib';
import { MemberAccountRoleStack } from '../lib/member-account-role';

const app = new App();
const text = (key: string): string => String(app.node.tryGetContext(key) ?? '').trim();
new MemberAccountRoleStack(app, text('stackName') || 'JitBotMemberRole', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  botRoleArn: text('botRoleArn'),
  externalId: text('externalId'),
  managedSecurityGroupIds: text('managedSecurityGroupIds').split(',').map((s) => s.trim()).filter(Boolean),
  managedRoleArns: text('managedRoleArns').split(',').map((s) => s.trim()).filter(Boolean),
  ssmTargets: text('ssmTargets') === 'true',
});
