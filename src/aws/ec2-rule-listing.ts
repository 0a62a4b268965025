/**
 * EC2's wire protocol with a lean reader for its one large answer, DescribeSecurityGroupRules.
 *
 * The drift sweep lists every rule of the managed groups (10,000 rules, about 6.5 MB of XML with
 * their descriptions and tags), and every verified revoke or grant lookup lists a batch of rules.
 * The SDK reads such an answer into a generic XML tree and then walks it against the operation's
 * schema: about 80 ms of CPU per 1,000 rules, most of a drift sweep's CPU. This reader streams the
 * same XML through a strict SAX parser (saxes) straight into the SDK's own output shape
 * (SecurityGroupRules with every member of SecurityGroupRule, NextToken, $metadata): about 10 ms
 * per 1,000 rules.
 *
 * Only successful DescribeSecurityGroupRules answers take this path; errors (the SDK's typed
 * exceptions, RequestLimitExceeded for the retry strategy) and every other operation are the
 * SDK's own. test/aws/ec2-rule-listing.test.ts checks that the output equals the SDK's for every
 * member, and that RULE_FIELDS names every member of the SDK's SecurityGroupRule schema, so an SDK
 * upgrade that adds one fails the test rather than dropping it silently.
 */
import { EC2Client, type EC2ClientConfig, type SecurityGroupRule, type Tag } from '@aws-sdk/client-ec2';
import { AwsEc2QueryProtocol } from '@aws-sdk/core/protocols';
import { collectBody } from '@smithy/core/protocols';
import type { HandlerExecutionContext, HttpResponse, MetadataBearer, OperationSchema, SerdeFunctions } from '@smithy/types';
import { SaxesParser } from 'saxes';

/** The operation this reader answers: its name in the SDK's operation schema. */
export const LEAN_OPERATION = 'DescribeSecurityGroupRules';

type Scalar = 'string' | 'number' | 'boolean';

/** The scalar members of SecurityGroupRule by their XML name: output member name and type. */
export const RULE_FIELDS: Readonly<Record<string, readonly [keyof SecurityGroupRule, Scalar]>> = {
  securityGroupRuleId: ['SecurityGroupRuleId', 'string'],
  groupId: ['GroupId', 'string'],
  groupOwnerId: ['GroupOwnerId', 'string'],
  isEgress: ['IsEgress', 'boolean'],
  ipProtocol: ['IpProtocol', 'string'],
  fromPort: ['FromPort', 'number'],
  toPort: ['ToPort', 'number'],
  cidrIpv4: ['CidrIpv4', 'string'],
  cidrIpv6: ['CidrIpv6', 'string'],
  prefixListId: ['PrefixListId', 'string'],
  description: ['Description', 'string'],
  securityGroupRuleArn: ['SecurityGroupRuleArn', 'string'],
};
/** The structured members: ReferencedGroupInfo (its string members by XML name) and Tags. */
export const REFERENCED_GROUP_XML = 'referencedGroupInfo';
export const REFERENCED_GROUP_FIELDS: Readonly<Record<string, string>> = {
  groupId: 'GroupId',
  peeringStatus: 'PeeringStatus',
  userId: 'UserId',
  vpcId: 'VpcId',
  vpcPeeringConnectionId: 'VpcPeeringConnectionId',
};
export const TAGS_XML = 'tagSet';

export interface RuleListing {
  SecurityGroupRules?: SecurityGroupRule[];
  NextToken?: string;
}

/**
 * Reads a DescribeSecurityGroupRules answer. Throws on XML that is not well-formed (the SDK then
 * reports a deserialization error with the raw response attached, as for its own reader).
 */
export function readRuleListing(xml: string): RuleListing {
  const out: RuleListing = {};
  // The open elements below the root; text is kept only for leaf members.
  const path: string[] = [];
  let text = '';
  let rule: Record<string, unknown> | undefined;
  let tag: Tag | undefined;
  let referenced: Record<string, string> | undefined;
  const parser = new SaxesParser({ xmlns: false });
  parser.on('opentag', (node) => {
    path.push(node.name);
    text = '';
    const depth = path.length;
    if (depth === 3 && path[1] === 'securityGroupRuleSet' && node.name === 'item') {
      rule = {};
      out.SecurityGroupRules!.push(rule as SecurityGroupRule);
    } else if (rule && depth === 4 && node.name === TAGS_XML) {
      rule.Tags = [];
    } else if (rule && depth === 5 && path[3] === TAGS_XML && node.name === 'item') {
      tag = {};
      (rule.Tags as Tag[]).push(tag);
    } else if (rule && depth === 4 && node.name === REFERENCED_GROUP_XML) {
      referenced = {};
      rule.ReferencedGroupInfo = referenced;
    } else if (depth === 2 && node.name === 'securityGroupRuleSet') {
      out.SecurityGroupRules ??= [];
    }
  });
  parser.on('text', (t) => {
    text += t;
  });
  parser.on('closetag', (node) => {
    const depth = path.length;
    const name = node.name;
    if (depth === 2 && name === 'nextToken') out.NextToken = text;
    else if (rule && depth === 4) {
      const field = RULE_FIELDS[name];
      if (field) rule[field[0]] = typed(text, field[1]);
    } else if (tag && depth === 6) {
      if (name === 'key') tag.Key = text;
      else if (name === 'value') tag.Value = text;
    } else if (referenced && depth === 5 && path[3] === REFERENCED_GROUP_XML) {
      const member = REFERENCED_GROUP_FIELDS[name];
      if (member) referenced[member] = text;
    }
    if (depth === 5 && name === 'item') tag = undefined;
    if (depth === 4 && name === REFERENCED_GROUP_XML) referenced = undefined;
    if (depth === 3 && name === 'item') rule = undefined;
    path.pop();
    text = '';
  });
  parser.write(xml).close();
  return out;
}

function typed(text: string, type: Scalar): string | number | boolean {
  if (type === 'number') return Number(text);
  if (type === 'boolean') return text === 'true';
  return text;
}

/**
 * AwsEc2QueryProtocol with readRuleListing for successful DescribeSecurityGroupRules answers.
 * Given to an EC2Client as its `protocol` (the SDK constructs it with the client's settings).
 */
export class LeanRuleListingProtocol extends AwsEc2QueryProtocol {
  override async deserializeResponse<Output extends MetadataBearer>(operationSchema: OperationSchema, context: HandlerExecutionContext & SerdeFunctions, response: HttpResponse): Promise<Output> {
    const name = operationSchema.name.split('#').at(-1);
    if (name !== LEAN_OPERATION || response.statusCode >= 300) return super.deserializeResponse<Output>(operationSchema, context, response);
    for (const header of Object.keys(response.headers)) {
      const value = response.headers[header]!;
      delete response.headers[header];
      response.headers[header.toLowerCase()] = value;
    }
    const bytes = await collectBody(response.body, context);
    const output = bytes.byteLength > 0 ? readRuleListing(context.utf8Encoder(bytes)) : {};
    // The output type is the operation's (DescribeSecurityGroupRulesCommandOutput): checked against the SDK's own reader in the test.
    return { ...output, $metadata: this.deserializeMetadata(response) } as unknown as Output;
  }
}

/** An EC2 client as the bot builds it: EC2's own protocol, with the lean reader for rule listings. */
export function ec2Client(config: EC2ClientConfig): EC2Client {
  return new EC2Client({ ...config, protocol: LeanRuleListingProtocol });
}
