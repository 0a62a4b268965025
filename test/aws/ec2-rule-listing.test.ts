/**
 * The lean reader of DescribeSecurityGroupRules answers against the SDK's own: the same answers
 * served over HTTP to a stock EC2Client and to one built with ec2Client() must give equal outputs
 * (every member of SecurityGroupRule, tags, NextToken, $metadata) and equal errors; the reader's
 * field tables must name every member of the SDK's schema.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, EC2Client, ReferencedSecurityGroup$, SecurityGroupRule$, Tag$ } from '@aws-sdk/client-ec2';
import { NormalizedSchema } from '@smithy/core/schema';
import { ec2Client, readRuleListing, REFERENCED_GROUP_FIELDS, REFERENCED_GROUP_XML, RULE_FIELDS, TAGS_XML } from '../../src/aws/ec2-rule-listing';

let server: Server;
let url: string;
let answer = { status: 200, body: '' };
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': 'f00d-request' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const config = () => ({ region: 'eu-west-1', endpoint: url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
const stock = () => new EC2Client(config());
const lean = () => ec2Client(config());
const LIST = new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: ['sg-0123456789abcdef0'] }] });

/** What each client makes of the same answer: its output, or its error's name, code and message. */
async function both(body: string, status = 200, command: DescribeSecurityGroupRulesCommand | DescribeSecurityGroupsCommand = LIST) {
  answer = { status, body };
  const outcome = async (client: EC2Client) => {
    try {
      return { output: await client.send(command as DescribeSecurityGroupRulesCommand) };
    } catch (err) {
      const e = err as { name: string; Code?: string; message: string; $fault?: string; $metadata?: unknown };
      return { error: { name: e.name, code: e.Code, message: e.message, fault: e.$fault, metadata: e.$metadata } };
    } finally {
      client.destroy();
    }
  };
  return { sdk: await outcome(stock()), mine: await outcome(lean()) };
}

/** As EC2 sends it: indented, every member of a rule present in one item or another. */
const INDENTED = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeSecurityGroupRulesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>5f1b4a4e-0000-4000-8000-000000000001</requestId>
    <securityGroupRuleSet>
        <item>
            <securityGroupRuleId>sgr-0a1b2c3d4e5f60001</securityGroupRuleId>
            <groupId>sg-0123456789abcdef0</groupId>
            <groupOwnerId>123456789012</groupOwnerId>
            <isEgress>false</isEgress>
            <ipProtocol>tcp</ipProtocol>
            <fromPort>22</fromPort>
            <toPort>22</toPort>
            <cidrIpv4>203.0.113.7/32</cidrIpv4>
            <description>jit jit-0000000001 U0ALICE until 2026-12-02T10:00:00.000Z &lt;&amp;&gt; &#233; &quot;q&quot; &apos;a&apos;</description>
            <tagSet>
                <item>
                    <key>jit:request-id</key>
                    <value>jit-0000000001</value>
                </item>
                <item>
                    <key>empty</key>
                    <value/>
                </item>
                <item>
                    <key>spaced</key>
                    <value>  two  words  </value>
                </item>
            </tagSet>
            <securityGroupRuleArn>arn:aws:ec2:eu-west-1:123456789012:security-group-rule/sgr-0a1b2c3d4e5f60001</securityGroupRuleArn>
        </item>
        <item>
            <securityGroupRuleId>sgr-0a1b2c3d4e5f60002</securityGroupRuleId>
            <groupId>sg-0123456789abcdef0</groupId>
            <groupOwnerId>123456789012</groupOwnerId>
            <isEgress>true</isEgress>
            <ipProtocol>-1</ipProtocol>
            <fromPort>-1</fromPort>
            <toPort>-1</toPort>
            <cidrIpv6>2001:db8::7/128</cidrIpv6>
            <prefixListId>pl-0123456789abcdef0</prefixListId>
            <referencedGroupInfo>
                <groupId>sg-0fedcba9876543210</groupId>
                <peeringStatus>active</peeringStatus>
                <userId>210987654321</userId>
                <vpcId>vpc-0123456789abcdef0</vpcId>
                <vpcPeeringConnectionId>pcx-0123456789abcdef0</vpcPeeringConnectionId>
            </referencedGroupInfo>
            <description></description>
            <tagSet/>
        </item>
        <item>
            <securityGroupRuleId>sgr-0a1b2c3d4e5f60003</securityGroupRuleId>
        </item>
    </securityGroupRuleSet>
    <nextToken>eyJ2IjoiMiJ9+/=</nextToken>
</DescribeSecurityGroupRulesResponse>`;

describe('equal to the SDK on successful answers', () => {
  it('every member, indented as EC2 sends it, with entities, empty values and a NextToken', async () => {
    const { sdk, mine } = await both(INDENTED);
    expect(sdk.output?.SecurityGroupRules).toHaveLength(3);
    expect(mine).toEqual(sdk);
  });

  it('compact, as the EC2 stand-in sends it', async () => {
    const compact = INDENTED.replace(/>\s+</g, '><');
    const { sdk, mine } = await both(compact);
    expect(sdk.output?.SecurityGroupRules?.[0]?.Tags).toHaveLength(3);
    expect(mine).toEqual(sdk);
  });

  it.each([
    ['an empty set, no NextToken', '<DescribeSecurityGroupRulesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><securityGroupRuleSet/></DescribeSecurityGroupRulesResponse>'],
    ['no set at all', '<DescribeSecurityGroupRulesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId></DescribeSecurityGroupRulesResponse>'],
    ['an empty body', ''],
  ])('%s', async (_name, body) => {
    const { sdk, mine } = await both(body);
    expect(sdk.output).toBeDefined();
    expect(mine).toEqual(sdk);
  });

  it('1,000 rules as the bot tags them read the same', async () => {
    const item = (n: number) =>
      `<item><securityGroupRuleId>sgr-${String(n).padStart(17, '0')}</securityGroupRuleId><groupId>sg-1</groupId><isEgress>false</isEgress><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><cidrIpv4>10.0.${n >> 8}.${n & 255}/32</cidrIpv4><description>jit jit-${n}</description><groupOwnerId>123456789012</groupOwnerId><tagSet><item><key>jit:request-id</key><value>jit-${n}</value></item><item><key>jit:managed-by</key><value>jit-access-bot</value></item></tagSet></item>`;
    const body = `<DescribeSecurityGroupRulesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><securityGroupRuleSet>${Array.from({ length: 1000 }, (_, n) => item(n)).join('')}</securityGroupRuleSet></DescribeSecurityGroupRulesResponse>`;
    const { sdk, mine } = await both(body);
    expect(sdk.output?.SecurityGroupRules).toHaveLength(1000);
    expect(mine).toEqual(sdk);
  });
});

describe('errors and other operations stay the SDK\'s', () => {
  it.each([
    ['InvalidGroup.NotFound', 400],
    ['UnauthorizedOperation', 403],
    ['RequestLimitExceeded', 503],
  ])('%s (HTTP %d): the same typed error', async (code, status) => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>say &quot;why&quot;</Message></Error></Errors><RequestID>f00d</RequestID></Response>`;
    const { sdk, mine } = await both(body, status);
    expect(sdk.error?.code ?? sdk.error?.name).toBe(code);
    expect(mine).toEqual(sdk);
  });

  it('XML that is not well-formed fails the call, as with the SDK\'s reader', async () => {
    const { sdk, mine } = await both(INDENTED.slice(0, 900));
    expect(sdk.error).toBeDefined();
    expect(mine.error).toBeDefined();
    expect(mine.output).toBeUndefined();
  });

  it('DescribeSecurityGroups is read by the SDK itself', async () => {
    const body =
      '<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><securityGroupInfo><item><ownerId>123456789012</ownerId><groupId>sg-1</groupId><groupName>g</groupName><groupDescription>d</groupDescription><vpcId>vpc-1</vpcId><ipPermissions/><ipPermissionsEgress/></item></securityGroupInfo></DescribeSecurityGroupsResponse>';
    const { sdk, mine } = await both(body, 200, new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] }));
    expect(sdk.output).toMatchObject({ SecurityGroups: [{ GroupId: 'sg-1' }] });
    expect(mine).toEqual(sdk);
  });
});

describe('the field tables name every member of the SDK\'s schemas', () => {
  const members = (schema: Parameters<typeof NormalizedSchema.of>[0]) =>
    Object.fromEntries([...NormalizedSchema.of(schema).structIterator()].map(([name, member]) => [(member.getMergedTraits().xmlName as string | undefined) ?? name, name]));

  it('SecurityGroupRule: the scalars, referencedGroupInfo and tagSet', () => {
    const mine = { ...Object.fromEntries(Object.entries(RULE_FIELDS).map(([xml, [name]]) => [xml, name])), [REFERENCED_GROUP_XML]: 'ReferencedGroupInfo', [TAGS_XML]: 'Tags' };
    expect(mine).toEqual(members(SecurityGroupRule$));
  });

  it('ReferencedSecurityGroup and Tag', () => {
    expect(REFERENCED_GROUP_FIELDS).toEqual(members(ReferencedSecurityGroup$));
    expect({ key: 'Key', value: 'Value' }).toEqual(members(Tag$));
  });

  it('readRuleListing alone: a rule with an unknown member keeps the members it knows', () => {
    const out = readRuleListing('<R><securityGroupRuleSet><item><securityGroupRuleId>sgr-1</securityGroupRuleId><somethingNew>x</somethingNew><fromPort>443</fromPort></item></securityGroupRuleSet></R>');
    expect(out).toEqual({ SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-1', FromPort: 443 }] });
  });
});
