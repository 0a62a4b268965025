/**
 * The AWS error-count middleware on a real SDK client, against a local endpoint that answers
 * with EC2's error format: every failed attempt counts, by service and code, inside the retries.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeSecurityGroupRulesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { countAwsErrors, errorCode, withoutSdkLogging } from '../../src/aws/instrument';

let server: Server;
let endpoint: string;
let answers: Array<{ status: number; body: string }> = [];

const ec2Error = (code: string) => `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${code} here</Message></Error></Errors><RequestID>r-1</RequestID></Response>`;
const ok = '<?xml version="1.0" encoding="UTF-8"?><DescribeSecurityGroupRulesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-2</requestId><securityGroupRuleSet/></DescribeSecurityGroupRulesResponse>';

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answers.shift() ?? { status: 200, body: ok };
      res.writeHead(a.status, { 'content-type': 'text/xml' }).end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const client = (maxAttempts: number, url = endpoint) => new EC2Client({ endpoint: url, region: 'eu-west-1', maxAttempts, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

it('counts each failed attempt by service and code, including ones the SDK retried to success', async () => {
  const seen: string[] = [];
  const ec2 = countAwsErrors(client(3), 'EC2', (service, code) => seen.push(`${service}/${code}`));
  answers = [{ status: 503, body: ec2Error('RequestLimitExceeded') }];
  await ec2.send(new DescribeSecurityGroupRulesCommand({}));
  expect(seen).toEqual(['EC2/RequestLimitExceeded']);

  answers = [{ status: 400, body: ec2Error('InvalidGroup.NotFound') }];
  await expect(ec2.send(new DescribeSecurityGroupRulesCommand({}))).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
  expect(seen).toEqual(['EC2/RequestLimitExceeded', 'EC2/InvalidGroup.NotFound']);
  ec2.destroy();
});

it('counts network errors by their code, and adding it twice counts once', async () => {
  const seen: string[] = [];
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((r) => closed.close(r));
  const ec2 = client(1, deadUrl);
  countAwsErrors(ec2, 'EC2', (service, code) => seen.push(`${service}/${code}`));
  countAwsErrors(ec2, 'EC2', (service, code) => seen.push(`${service}/${code}`));
  await expect(ec2.send(new DescribeSecurityGroupRulesCommand({}))).rejects.toThrow();
  expect(seen).toEqual(['EC2/ECONNREFUSED']);
  ec2.destroy();
});

it('errorCode: the service code, else the network code, else Unknown', () => {
  expect(errorCode(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).toBe('ThrottlingException');
  expect(errorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
  expect(errorCode('boom')).toBe('Unknown');
});

describe('withoutSdkLogging', () => {
  const logger = () => {
    const info = jest.fn();
    return { info, debug: jest.fn(), warn: jest.fn(), error: jest.fn() };
  };

  it('takes the SDK logging middleware out: a logger given to the client is no longer handed each call', async () => {
    const withIt = logger();
    const plain = new EC2Client({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, logger: withIt });
    await plain.send(new DescribeSecurityGroupRulesCommand({}));
    expect(withIt.info).toHaveBeenCalledTimes(1);

    const without = logger();
    const lean = withoutSdkLogging(new EC2Client({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, logger: without }));
    await expect(lean.send(new DescribeSecurityGroupRulesCommand({}))).resolves.toMatchObject({ SecurityGroupRules: [] });
    expect(without.info).not.toHaveBeenCalled();
  });

  it('keeps the error counter working on the same client', async () => {
    const seen: string[] = [];
    const ec2 = countAwsErrors(withoutSdkLogging(client(1)), 'EC2', (service, code) => seen.push(`${service}/${code}`));
    answers = [{ status: 400, body: ec2Error('InvalidGroup.NotFound') }];
    await expect(ec2.send(new DescribeSecurityGroupRulesCommand({}))).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
    expect(seen).toEqual(['EC2/InvalidGroup.NotFound']);
  });
});
