/**
 * The role an ec2-ssh target in another account names (`assumeRoleArn`): deployed in that member
 * account, trusted only by the bot's task role and only with the external id, allowed only what
 * the bot does on security groups there (the same statements as in the bot's own account:
 * ec2RuleStatements) and nothing else. Sessions last at most one hour (the bot renews them).
 *
 *   npx cdk deploy -a "npx ts-node bin/member.ts" -c botRoleArn=arn:aws:iam::<hub>:role/… \
 *     -c externalId=… -c managedSecurityGroupIds=sg-…   (with the member account's credentials)
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ec2RuleStatements } from './jit-bot-stack';

export interface MemberAccountRoleProps extends StackProps {
  /** The bot's task role in its own account (JitBotStack's TaskRoleArn output). */
  readonly botRoleArn: string;
  /** The external id the bot sends (the target's assumeRoleExternalId): 2–1224 characters. */
  readonly externalId: string;
  /** The groups of this account the bot may open and close rules on. */
  readonly managedSecurityGroupIds: string[];
  /** Default jit-access-bot-member. */
  readonly roleName?: string;
}

export class MemberAccountRoleStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MemberAccountRoleProps) {
    super(scope, id, props);
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(props.botRoleArn)) throw new Error(`botRoleArn must be the bot's IAM role ARN, got: ${props.botRoleArn}`);
    if (!/^[\w+=,.@:/-]{2,1224}$/.test(props.externalId)) throw new Error('externalId must be 2–1224 characters of letters, digits and +=,.@:/-');
    const bad = props.managedSecurityGroupIds.filter((sg) => !/^sg-[0-9a-f]{8,17}$/.test(sg));
    if (props.managedSecurityGroupIds.length === 0 || bad.length > 0) throw new Error(`managedSecurityGroupIds must be security group ids, got: ${bad.join(', ') || 'none'}`);
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName ?? 'jit-access-bot-member',
      description: 'jit-access-bot: opens and closes its tagged ingress rules on the named security groups of this account',
      assumedBy: new iam.ArnPrincipal(props.botRoleArn).withConditions({ StringEquals: { 'sts:ExternalId': props.externalId } }),
      maxSessionDuration: Duration.hours(1),
    });
    for (const statement of ec2RuleStatements(this, props.managedSecurityGroupIds)) this.role.addToPolicy(statement);
    new CfnOutput(this, 'MemberRoleArn', { value: this.role.roleArn, description: "the target's assumeRoleArn (and the bot stack's memberAccountRoleArns)" });
  }
}
