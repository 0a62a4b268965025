/**
 * The role a target in another account names (`assumeRoleArn`): deployed in that member account,
 * trusted only by the bot's task role and only with the external id, allowed only what the bot
 * does there, with the same statements as in the bot's own account: rules on the named security
 * groups (ec2-ssh), deny policies on the named roles (aws-role, ssm-session: the targets' roles
 * still trust the bot's own role for sts:AssumeRole), Session Manager lookups and ending the bot's
 * sessions (ssm-session), and (with roles) simulating itself for the doctor's deny-policy check.
 * Sessions last at most one hour (the bot renews them).
 *
 *   npx cdk deploy -a "npx ts-node bin/member.ts" -c botRoleArn=arn:aws:iam::<hub>:role/… \
 *     -c externalId=… -c managedSecurityGroupIds=sg-…   (with the member account's credentials)
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { denyPolicyStatements, ec2RuleStatements, ssmSessionStatements } from './jit-bot-stack';

export interface MemberAccountRoleProps extends StackProps {
  /** The bot's task role in its own account (JitBotStack's TaskRoleArn output). */
  readonly botRoleArn: string;
  /** The external id the bot sends (the target's assumeRoleExternalId): 2–1224 characters. */
  readonly externalId: string;
  /** The groups of this account the bot may open and close rules on (ec2-ssh targets). */
  readonly managedSecurityGroupIds?: string[];
  /** Roles of this account that aws-role / ssm-session targets name: the bot manages its jit-deny policy on them. */
  readonly managedRoleArns?: string[];
  /** ssm-session targets here: find nodes and sessions, end the bot's sessions. */
  readonly ssmTargets?: boolean;
  /** Default jit-access-bot-member. */
  readonly roleName?: string;
}

export class MemberAccountRoleStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MemberAccountRoleProps) {
    super(scope, id, props);
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(props.botRoleArn)) throw new Error(`botRoleArn must be the bot's IAM role ARN, got: ${props.botRoleArn}`);
    if (!/^[\w+=,.@:/-]{2,1224}$/.test(props.externalId)) throw new Error('externalId must be 2–1224 characters of letters, digits and +=,.@:/-');
    const groups = props.managedSecurityGroupIds ?? [];
    const roles = props.managedRoleArns ?? [];
    const bad = groups.filter((sg) => !/^sg-[0-9a-f]{8,17}$/.test(sg));
    if (bad.length > 0) throw new Error(`managedSecurityGroupIds must be security group ids, got: ${bad.join(', ')}`);
    const badRoles = roles.filter((arn) => !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(arn));
    if (badRoles.length > 0) throw new Error(`managedRoleArns must be IAM role ARNs, got: ${badRoles.join(', ')}`);
    if (groups.length === 0 && roles.length === 0) throw new Error('name managedSecurityGroupIds and/or managedRoleArns: this role would have nothing to do');
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName ?? 'jit-access-bot-member',
      description: "jit-access-bot: its ingress rules on the named security groups, its deny policies on the named roles, its Session Manager sessions, in this account",
      assumedBy: new iam.ArnPrincipal(props.botRoleArn).withConditions({ StringEquals: { 'sts:ExternalId': props.externalId } }),
      maxSessionDuration: Duration.hours(1),
    });
    const statements = [...(groups.length > 0 ? ec2RuleStatements(this, groups) : []), ...(roles.length > 0 ? denyPolicyStatements(roles) : []), ...(props.ssmTargets ? ssmSessionStatements(this) : [])];
    for (const statement of statements) this.role.addToPolicy(statement);
    // The doctor checks the deny-policy permissions above by simulating this role, through its own session.
    if (roles.length > 0) this.role.addToPolicy(new iam.PolicyStatement({ sid: 'DoctorSimulatesItself', actions: ['iam:SimulatePrincipalPolicy'], resources: [this.role.roleArn] }));
    new CfnOutput(this, 'MemberRoleArn', { value: this.role.roleArn, description: "the target's assumeRoleArn (and the bot stack's memberAccountRoleArns)" });
  }
}
