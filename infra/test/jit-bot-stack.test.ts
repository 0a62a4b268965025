/**
 * Offline assertions on the synthesized JitBotStack template. The stack is synthesized once
 * (beforeAll); every test reads the same Template.
 */
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { tableSchemaDefinition } from '../../src/store/schema';
import { JitBotStack, SLACK_SECRET_KEYS, TABLE_SCHEMA } from '../lib/jit-bot-stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const MANAGED_SGS = ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'];
const BOT_CONFIG = { yaml: 'approverChannel: C0APPROVERS\napprovers: { users: [U0APPROVER1] }\ntargets:\n  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }\n' };

const sgArn = (id: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ec2:${REGION}:${ACCOUNT}:security-group/${id}`]],
});
const ruleArns = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ec2:${REGION}:${ACCOUNT}:security-group-rule/*`]],
};

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

function newApp(): App {
  return new App({
    context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: [`${REGION}a`, `${REGION}b`, `${REGION}c`] },
  });
}

let template: Template;
let stack: JitBotStack;
let taskRoleId: string;

beforeAll(() => {
  stack = new JitBotStack(newApp(), 'JitBotStack', {
    env: { account: ACCOUNT, region: REGION },
    managedSecurityGroupIds: MANAGED_SGS, botConfig: BOT_CONFIG,
  });
  template = Template.fromStack(stack);
  taskRoleId = stack.getLogicalId(stack.taskRole.node.defaultChild as CfnElement);
});

/** Every IAM statement in the template: standalone policies, managed policies and inline role policies. */
function allStatements(): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(template.findResources('AWS::IAM::Policy'))) out.push(...r.Properties.PolicyDocument.Statement);
  for (const r of Object.values(template.findResources('AWS::IAM::ManagedPolicy'))) out.push(...r.Properties.PolicyDocument.Statement);
  for (const r of Object.values(template.findResources('AWS::IAM::Role'))) {
    for (const p of r.Properties.Policies ?? []) out.push(...p.PolicyDocument.Statement);
  }
  return out;
}

function taskRoleStatements(): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: taskRoleId }] } });
  const list = Object.values(policies);
  expect(list).toHaveLength(1);
  return list[0].Properties.PolicyDocument.Statement;
}

const actionsOf = (s: Statement) => asArray(s.Action);

describe('DynamoDB table', () => {
  test('exactly one table, partition key pk (S) only, on demand', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  test('the six GSIs have exact key names, types and projection ALL', () => {
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0].Properties;
    const gsis = Object.fromEntries(table.GlobalSecondaryIndexes.map((g: { IndexName: string }) => [g.IndexName, g]));
    expect(Object.keys(gsis).sort()).toEqual(['byChange', 'byRequester', 'byTarget', 'due', 'held', 'outbox']);
    // Each index's exact keys, spelled out here (not read from the schema the stack is built from).
    const keys: Record<string, [string, string]> = {
      due: ['dueShard', 'dueAt'],
      byRequester: ['requesterId', 'createdAt'],
      byTarget: ['targetName', 'createdAt'],
      byChange: ['changeMonth', 'changedAt'],
      held: ['heldShard', 'pk'],
      outbox: ['outboxShard', 'outboxAt'],
    };
    for (const [name, [hash, range]] of Object.entries(keys)) {
      expect(gsis[name]).toEqual({
        IndexName: name,
        KeySchema: [
          { AttributeName: hash, KeyType: 'HASH' },
          { AttributeName: range, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      });
    }
    // Attribute types: only key attributes are declared, with these exact types.
    const types = Object.fromEntries(table.AttributeDefinitions.map((a: { AttributeName: string; AttributeType: string }) => [a.AttributeName, a.AttributeType]));
    expect(types).toEqual({ pk: 'S', dueShard: 'S', dueAt: 'N', requesterId: 'S', createdAt: 'S', outboxShard: 'S', outboxAt: 'N', targetName: 'S', changeMonth: 'S', changedAt: 'S', heldShard: 'S' });
    // The exported schema constant (shared with the app) matches the template.
    expect(TABLE_SCHEMA.indexes.due).toEqual({ name: 'due', partitionKey: 'dueShard', sortKey: 'dueAt' });
  });

  test('point-in-time recovery, deletion protection, AWS-managed SSE, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true },
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    // AWS-managed key: no customer KMS key and no SSEType/KMSMasterKeyId override.
    const sse = Object.values(template.findResources('AWS::DynamoDB::Table'))[0].Properties.SSESpecification;
    expect(sse).toEqual({ SSEEnabled: true });
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  test('TTL is only the purgeAt purge attribute, never a revocation timer', () => {
    for (const t of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      const ttl = t.Properties.TimeToLiveSpecification;
      if (ttl !== undefined) expect(ttl).toEqual({ AttributeName: 'purgeAt', Enabled: true });
    }
  });
});

describe('the deployed table is the application\'s table (src/store/schema.ts, one definition)', () => {
  // What the app creates (the embedded store's CreateTable input) and what infra deploys.
  const app = tableSchemaDefinition('jit-requests');
  const byName = <T>(key: (x: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b));
  const deployed = () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(1);
    return tables[0].Properties;
  };

  test('key schema and billing mode', () => {
    expect(deployed().KeySchema).toEqual(app.KeySchema);
    expect(deployed().BillingMode).toBe(app.BillingMode);
  });

  test('attribute definitions: the same names with the same types, nothing more', () => {
    type Def = { AttributeName: string; AttributeType: string };
    expect([...deployed().AttributeDefinitions].sort(byName<Def>((d) => d.AttributeName))).toEqual([...app.AttributeDefinitions].sort(byName<Def>((d) => d.AttributeName)));
  });

  test('global secondary indexes: names, key schemas and projections, nothing more', () => {
    type Gsi = { IndexName: string };
    expect([...deployed().GlobalSecondaryIndexes].sort(byName<Gsi>((g) => g.IndexName))).toEqual([...app.GlobalSecondaryIndexes].sort(byName<Gsi>((g) => g.IndexName)));
  });

  test('TTL on the attribute the app writes for purging', () => {
    expect(deployed().TimeToLiveSpecification).toEqual({ AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true });
    expect(TABLE_SCHEMA.ttlAttribute).toBe('purgeAt');
  });
});

describe('task role', () => {
  test('dynamodb: DescribeTable (schema check at start), GetItem/BatchGetItem/PutItem/UpdateItem/Query on the table, Query on its indexes, nothing else', () => {
    const tableArn = { 'Fn::GetAtt': [stack.getLogicalId(stack.table.node.defaultChild as CfnElement), 'Arn'] };
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: taskRoleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
            Resource: tableArn,
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'dynamodb:Query',
            Resource: { 'Fn::Join': ['', [tableArn, '/index/*']] },
          }),
        ]),
      },
    });
    const dynamoActions = taskRoleStatements().flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'));
    expect(new Set(dynamoActions)).toEqual(new Set(['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query']));
  });

  test('dynamodb:DeleteItem only on the RULE# bookkeeping items (dynamodb:LeadingKeys), in exactly one statement', () => {
    const tableArn = { 'Fn::GetAtt': [stack.getLogicalId(stack.table.node.defaultChild as CfnElement), 'Arn'] };
    const deleting = allStatements().filter((s) => actionsOf(s).some((a) => a === 'dynamodb:DeleteItem' || a === 'dynamodb:*' || a === 'dynamodb:Delete*' || a === 'dynamodb:BatchWriteItem'));
    expect(deleting).toEqual([
      {
        Sid: 'DeleteBookkeepingItems',
        Effect: 'Allow',
        Action: 'dynamodb:DeleteItem',
        Resource: tableArn,
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RULE#*'] } },
      },
    ]);
  });

  test('no dynamodb:Scan, DeleteTable or dynamodb:* anywhere in the template', () => {
    const actions = allStatements().flatMap(actionsOf);
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('dynamodb:DeleteTable');
    expect(actions.filter((a) => a === '*' || a === 'dynamodb:*' || a === 'ec2:*')).toEqual([]);
  });

  const TAG_KEYS = ['jit:request-id', 'jit:requester', 'jit:expires-at', 'jit:managed-by'];
  const REQUEST_TAGS = {
    StringEquals: { 'aws:RequestTag/jit:managed-by': 'jit-access-bot' },
    Null: Object.fromEntries(TAG_KEYS.map((k) => [`aws:RequestTag/${k}`, 'false'])),
    'ForAllValues:StringEquals': { 'aws:TagKeys': TAG_KEYS },
  };

  test('Authorize on the managed security groups only, and on a new rule only with the bot’s four tags (aws:RequestTag, aws:TagKeys)', () => {
    const authorizing = allStatements().filter((s) => actionsOf(s).some((a) => /^ec2:(AuthorizeSecurityGroup|\*$)|^\*$/.test(a)));
    expect(authorizing).toEqual([
      { Sid: 'AuthorizeOnManagedGroups', Effect: 'Allow', Action: 'ec2:AuthorizeSecurityGroupIngress', Resource: MANAGED_SGS.map(sgArn) },
      { Sid: 'AuthorizeOnlyTaggedRules', Effect: 'Allow', Action: 'ec2:AuthorizeSecurityGroupIngress', Resource: ruleArns, Condition: REQUEST_TAGS },
    ]);
  });

  test('Revoke only on the managed security groups, with no other action in the statement', () => {
    const revoking = allStatements().filter((s) => actionsOf(s).some((a) => /^ec2:RevokeSecurityGroup/.test(a)));
    expect(revoking).toEqual([{ Sid: 'RevokeOnManagedGroups', Effect: 'Allow', Action: 'ec2:RevokeSecurityGroupIngress', Resource: MANAGED_SGS.map(sgArn) }]);
  });

  test('no egress changes, and no security-group change on "*" or outside the managed list', () => {
    const managed = [...MANAGED_SGS.map((id) => JSON.stringify(sgArn(id))), JSON.stringify(ruleArns)];
    const grants = allStatements().filter((s) => actionsOf(s).some((a) => /SecurityGroup(Ingress|Egress|Rules)|^ec2:\*$|^\*$/.test(a) && !/^ec2:Describe/.test(a)));
    expect(grants.length).toBeGreaterThan(0);
    for (const s of grants) {
      expect(actionsOf(s).filter((a) => /Egress|Modify|Update/.test(a))).toEqual([]);
      for (const r of asArray(s.Resource)) expect(managed).toContain(JSON.stringify(r));
    }
  });

  test('CreateTags only on security-group-rule resources: while authorizing ingress with the bot’s tags, or later only the expires-at tag of a rule the bot tagged', () => {
    const tagging = allStatements().filter((s) => actionsOf(s).some((a) => /^ec2:(CreateTags|\*)$|^\*$/.test(a)));
    expect(tagging).toEqual([
      {
        Sid: 'TagRulesAtCreation',
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: ruleArns,
        Condition: { ...REQUEST_TAGS, StringEquals: { ...REQUEST_TAGS.StringEquals, 'ec2:CreateAction': 'AuthorizeSecurityGroupIngress' } },
      },
      {
        Sid: 'RetagExpiryOfOwnRules',
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: ruleArns,
        Condition: { StringEquals: { 'aws:ResourceTag/jit:managed-by': 'jit-access-bot' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['jit:expires-at'] } },
      },
    ]);
  });

  test('rule descriptions only in the managed groups', () => {
    const describing = allStatements().filter((s) => actionsOf(s).some((a) => /UpdateSecurityGroupRuleDescriptions/.test(a)));
    expect(describing).toEqual([expect.objectContaining({ Sid: 'UpdateDescriptionsOnManagedGroups', Effect: 'Allow', Action: 'ec2:UpdateSecurityGroupRuleDescriptionsIngress' })]);
    expect(JSON.stringify(describing[0]!.Resource)).toContain(':security-group/');
    expect(JSON.stringify(describing[0]!.Resource)).not.toContain('*');
  });

  test('no mutating action of the task role has "*" as its resource (only the describe calls do)', () => {
    const wildcardAllows = taskRoleStatements().filter((s) => s.Effect === 'Allow' && asArray(s.Resource).some((r) => r === '*' || (typeof r === 'string' && r.endsWith(':*'))));
    for (const a of wildcardAllows.flatMap(actionsOf)) expect(a).toMatch(/^(ec2|ssm):Describe/);
  });

  test('describe calls on "*" are the only wildcard resources of the task role', () => {
    const wildcard = taskRoleStatements().filter((s) => asArray(s.Resource).includes('*'));
    expect(wildcard.flatMap(actionsOf).sort()).toEqual(['ec2:DescribeSecurityGroupRules', 'ec2:DescribeSecurityGroups']);
  });
});

describe('ECS service', () => {
  test('Fargate, desiredCount 2, minHealthyPercent 100, circuit breaker with rollback', () => {
    template.resourceCountIs('AWS::ECS::Service', 1);
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      DeploymentConfiguration: Match.objectLike({
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
  });

  test('runs in private subnets with no public IP and a security group without ingress', () => {
    const svc = Object.values(template.findResources('AWS::ECS::Service'))[0].Properties;
    const net = svc.NetworkConfiguration.AwsvpcConfiguration;
    expect(net.AssignPublicIp).toBe('DISABLED');
    const subnets = template.findResources('AWS::EC2::Subnet');
    for (const ref of net.Subnets) {
      const subnet = subnets[ref.Ref];
      expect(subnet).toBeDefined();
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
    const sgId = net.SecurityGroups[0]['Fn::GetAtt'][0];
    const sg = template.findResources('AWS::EC2::SecurityGroup')[sgId].Properties;
    expect(sg.SecurityGroupIngress).toBeUndefined();
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
  });

  test('environment is set and Slack tokens come from Secrets Manager as ECS secrets, not plain env', () => {
    const secretId = stack.getLogicalId(stack.slackSecret.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      TaskRoleArn: { 'Fn::GetAtt': [taskRoleId, 'Arn'] },
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'JIT_DYNAMODB_TABLE', Value: { Ref: stack.getLogicalId(stack.table.node.defaultChild as CfnElement) } },
            { Name: 'AWS_REGION', Value: REGION },
            { Name: 'LOG_LEVEL', Value: 'info' },
            { Name: 'HEALTH_PORT', Value: '8080' },
          ]),
          Secrets: Match.arrayWith(
            SLACK_SECRET_KEYS.map((key) => ({
              Name: key,
              ValueFrom: { 'Fn::Join': ['', [{ Ref: secretId }, `:${key}::`]] },
            })),
          ),
        }),
      ],
    });
    const container = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0].Properties.ContainerDefinitions[0];
    const envNames = container.Environment.map((e: { Name: string }) => e.Name);
    for (const name of [...SLACK_SECRET_KEYS, 'SLACK_SIGNING_SECRET']) expect(envNames).not.toContain(name);
    expect(JSON.stringify(container.Environment)).not.toMatch(/xox[bp]-|xapp-/);
  });

  test('only the execution role may read the secret', () => {
    const readers = allStatements().filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    expect(readers).toHaveLength(1);
    const taskRoleActions = taskRoleStatements().flatMap(actionsOf);
    expect(taskRoleActions.filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
  });

  test('logs go to a CloudWatch log group kept for one year', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    const [logGroupId, logGroup] = Object.entries(template.findResources('AWS::Logs::LogGroup'))[0];
    expect(logGroup.Properties.RetentionInDays).toBe(365);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          LogConfiguration: { LogDriver: 'awslogs', Options: Match.objectLike({ 'awslogs-group': { Ref: logGroupId } }) },
        }),
      ],
    });
  });

  test('no Lambda functions (no custom resources with a deprecated Node.js runtime)', () => {
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourceCountIs('Custom::LogRetention', 0);
  });
});

describe('network and outputs', () => {
  test('new VPC with 2 AZs and one NAT gateway', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    const azs = new Set(Object.values(template.findResources('AWS::EC2::Subnet')).map((s) => s.Properties.AvailabilityZone));
    expect([...azs].sort()).toEqual([`${REGION}a`, `${REGION}b`]);
  });

  test('outputs the table name and the service name', () => {
    template.hasOutput('TableName', { Value: { Ref: stack.getLogicalId(stack.table.node.defaultChild as CfnElement) } });
    template.hasOutput('ServiceName', { Value: { 'Fn::GetAtt': [stack.getLogicalId(stack.service.node.defaultChild as CfnElement), 'Name'] } });
  });
});

describe('props validation (no synthesis)', () => {
  const env = { account: ACCOUNT, region: REGION };
  test('rejects an empty or malformed managed security group list', () => {
    expect(() => new JitBotStack(newApp(), 'Empty', { env, managedSecurityGroupIds: [], botConfig: BOT_CONFIG })).toThrow(/at least one/);
    expect(() => new JitBotStack(newApp(), 'Bad', { env, managedSecurityGroupIds: ['sg-123', '*'], botConfig: BOT_CONFIG })).toThrow(/sg-123, \*/);
  });
  test('rejects a negative or fractional desiredCount', () => {
    expect(() => new JitBotStack(newApp(), 'Neg', { env, managedSecurityGroupIds: MANAGED_SGS, botConfig: BOT_CONFIG, desiredCount: -1 })).toThrow(/desiredCount/);
    expect(() => new JitBotStack(newApp(), 'Frac', { env, managedSecurityGroupIds: MANAGED_SGS, botConfig: BOT_CONFIG, desiredCount: 1.5 })).toThrow(/desiredCount/);
  });
});

describe('role-backed targets', () => {
  const ROLES = ['arn:aws:iam::123456789012:role/ProdReadOnly', 'arn:aws:iam::123456789012:role/JitSsmAccess'];
  const statementsOf = (t: Template) =>
    Object.values(t.findResources('AWS::IAM::Policy')).flatMap((r) => r.Properties.PolicyDocument.Statement as Array<{ Sid?: string; Action: string | string[]; Resource: unknown }>);

  it('adds no STS, IAM or SSM permission when there are no such targets', () => {
    // The task role: the execution role reads the config parameter (ssm:GetParameters) to start the container.
    const actions = taskRoleStatements().flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => /^(sts|iam|ssm):/.test(a))).toEqual([]);
    expect(allStatements().flatMap((s) => asArray(s.Action)).filter((a) => /^(sts|iam):/.test(a))).toEqual([]);
  });

  it('Identity Center: assigns only the named permission sets on the named accounts, and finds users in the one Identity Store', () => {
    const INSTANCE = 'arn:aws:sso:::instance/ssoins-1111222233334444';
    const PS = 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd';
    const props = (identityCenter: ConstructorParameters<typeof JitBotStack>[2]['identityCenter']) => ({ env: { account: ACCOUNT, region: REGION }, managedSecurityGroupIds: MANAGED_SGS, botConfig: BOT_CONFIG, identityCenter });
    const t = Template.fromStack(new JitBotStack(newApp(), 'Sso', props({ instanceArn: INSTANCE, identityStoreId: 'd-1234567890', permissionSetArns: [PS], accountIds: ['210987654321'] })));
    const bySid = Object.fromEntries(statementsOf(t).filter((s) => s.Sid).map((s) => [s.Sid!, s]));
    const account = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sso:::account/210987654321']] };
    expect(bySid.AssignPermissionSets).toMatchObject({ Effect: 'Allow', Action: ['sso:CreateAccountAssignment', 'sso:DeleteAccountAssignment'], Resource: [INSTANCE, PS, account] });
    expect(bySid.ReadAssignments).toMatchObject({ Resource: [INSTANCE, PS, account] });
    expect(asArray(bySid.FindUsersByEmail!.Action)).toEqual(['identitystore:GetUserId']);
    expect(JSON.stringify(bySid.FindUsersByEmail!.Resource)).toContain(`:identitystore::${ACCOUNT}:identitystore/d-1234567890`);
    // No SSO action anywhere on '*'.
    expect(statementsOf(t).filter((s) => asArray(s.Action).some((a) => /^(sso|identitystore):/.test(a)) && JSON.stringify(s.Resource).includes('"*"'))).toEqual([]);
    // Without identityCenter: no SSO permission at all.
    const plain = Template.fromStack(new JitBotStack(newApp(), 'NoSso', props(undefined)));
    expect(statementsOf(plain).flatMap((s) => asArray(s.Action)).filter((a) => /^(sso|identitystore):/.test(a))).toEqual([]);
    // Without endSessions the inline policies are not the bot's to change; with it, exactly those calls on the same resources.
    expect(statementsOf(t).flatMap((s) => asArray(s.Action)).filter((a) => /InlinePolicy|Provision/.test(a))).toEqual([]);
    const ending = Object.fromEntries(statementsOf(Template.fromStack(new JitBotStack(newApp(), 'SsoEnd', props({ instanceArn: INSTANCE, identityStoreId: 'd-1234567890', permissionSetArns: [PS], accountIds: ['210987654321'], endSessions: true })))).filter((s) => s.Sid).map((s) => [s.Sid!, s]));
    expect(ending.DenyEarlierSessions).toMatchObject({ Effect: 'Allow', Resource: [INSTANCE, PS, account] });
    expect(asArray(ending.DenyEarlierSessions!.Action).sort()).toEqual(['sso:DescribePermissionSetProvisioningStatus', 'sso:GetInlinePolicyForPermissionSet', 'sso:ListAccountsForProvisionedPermissionSet', 'sso:ProvisionPermissionSet', 'sso:PutInlinePolicyToPermissionSet']);
    // Member accounts only: no IAM permission (Identity Center provisions there with its own role).
    expect(statementsOf(t).flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith('iam:'))).toEqual([]);
    // The bot's own account among them (the management account): the caller provisions the role
    // there, so the reserved-path roles and the SSO SAML provider of this account, and nothing else.
    const own = Object.fromEntries(statementsOf(Template.fromStack(new JitBotStack(newApp(), 'SsoOwn', props({ instanceArn: INSTANCE, identityStoreId: 'd-1234567890', permissionSetArns: [PS], accountIds: ['210987654321', ACCOUNT] })))).filter((s) => s.Sid).map((s) => [s.Sid!, s]));
    expect(JSON.stringify(own.ProvisionInOwnAccountReservedRoles!.Resource)).toContain(`:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*`);
    expect(asArray(own.ProvisionInOwnAccountReservedRoles!.Action)).toContain('iam:CreateRole');
    expect(JSON.stringify(own.ProvisionInOwnAccountReadSamlProvider!.Resource)).toContain(`:iam::${ACCOUNT}:saml-provider/AWSSSO_*_DO_NOT_DELETE`);
    expect(asArray(own.ProvisionInOwnAccountReadSamlProvider!.Action)).toEqual(['iam:GetSAMLProvider']);
    // A permission set of another instance, or no account, fails the synth naming the key.
    expect(() => new JitBotStack(newApp(), 'Bad1', props({ instanceArn: INSTANCE, identityStoreId: 'd-1234567890', permissionSetArns: ['arn:aws:sso:::permissionSet/ssoins-9999888877776666/ps-aaaabbbbccccdddd'], accountIds: ['210987654321'] }))).toThrow(/identityCenter\.permissionSetArns/);
    expect(() => new JitBotStack(newApp(), 'Bad2', props({ instanceArn: INSTANCE, identityStoreId: 'd-1234567890', permissionSetArns: [PS], accountIds: [] }))).toThrow(/identityCenter\.accountIds/);
  });

  it('scopes AssumeRole and the deny-policy calls to the target roles, and allows ending SSM sessions', () => {
    const t = Template.fromStack(new JitBotStack(newApp(), 'Roles', { env: { account: ACCOUNT, region: REGION }, managedSecurityGroupIds: MANAGED_SGS, botConfig: BOT_CONFIG, managedRoleArns: ROLES, ssmTargets: true }));
    const bySid = Object.fromEntries(statementsOf(t).filter((s) => s.Sid).map((s) => [s.Sid!, s]));
    expect(bySid.AssumeTargetRoles).toMatchObject({ Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Resource: ROLES });
    expect(bySid.DenyPoliciesOnTargetRoles).toMatchObject({ Action: ['iam:GetRole', 'iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:DeleteRolePolicy'], Resource: ROLES });
    expect(bySid.FindNodesAndSessions!.Action).toEqual(['ssm:DescribeInstanceInformation', 'ssm:DescribeSessions']);
    // Only sessions the bot's RoleSessionName ("<human>.jit-<id>") started.
    expect(bySid.EndSessions).toMatchObject({
      Effect: 'Allow',
      Action: 'ssm:TerminateSession',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:*:${ACCOUNT}:session/*.jit-*`]] },
    });
    expect(statementsOf(t).filter((s) => asArray(s.Action).some((a) => /^ssm:(TerminateSession|\*)$|^\*$/.test(a)))).toHaveLength(1);
    // Boundaries: denied outright, so no Allow added later can let the bot lift or rewrite one.
    expect(bySid.NeverChangeBoundaries).toEqual({
      Sid: 'NeverChangeBoundaries',
      Effect: 'Deny',
      Action: ['iam:PutRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary', 'iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicyVersion'],
      Resource: '*',
    });
    const everyAllow = statementsOf(t).filter((s) => (s as { Effect?: string }).Effect === 'Allow').flatMap((s) => asArray(s.Action));
    expect(everyAllow.filter((a) => /Boundary|PolicyVersion|^iam:\*$|^iam:(Attach|Detach|Create|Update)/.test(a))).toEqual([]);
    const taskPolicies = Object.values(t.findResources('AWS::IAM::Policy')).filter((r) => JSON.stringify(r.Properties.Roles).match(/"Ref":"TaskRole[0-9A-F]+"/));
    expect(taskPolicies).toHaveLength(1);
    const allows = (taskPolicies[0]!.Properties.PolicyDocument.Statement as Statement[]).filter((s) => s.Effect === 'Allow').flatMap(actionsOf);
    // Every IAM/STS/SSM action allowed is one the bot's code calls (src/aws/sts-session.ts, ssm-session.ts, doctor.ts).
    expect(new Set(allows.filter((a) => /^(iam|sts|ssm):/.test(a)))).toEqual(
      new Set(['sts:AssumeRole', 'sts:SetSourceIdentity', 'iam:GetRole', 'iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:DeleteRolePolicy', 'iam:SimulatePrincipalPolicy', 'ssm:DescribeInstanceInformation', 'ssm:DescribeSessions', 'ssm:TerminateSession']),
    );
    // The doctor's simulation of those calls: on the bot's own role only.
    expect(bySid.DoctorSimulatesItself).toMatchObject({ Action: ['iam:SimulatePrincipalPolicy', 'iam:GetRole'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TaskRole/), 'Arn'] } });
    for (const s of statementsOf(t)) if (asArray(s.Action).some((a) => /^(sts:AssumeRole|iam:PutRolePolicy)$/.test(a))) expect(s.Resource).not.toEqual('*');
  });

  it('refuses anything but role ARNs', () => {
    expect(() => new JitBotStack(newApp(), 'BadRole', { env: { account: ACCOUNT, region: REGION }, managedSecurityGroupIds: MANAGED_SGS, botConfig: BOT_CONFIG, managedRoleArns: ['*'] })).toThrow(/managedRoleArns must be IAM role ARNs, got: \*/);
  });
});
