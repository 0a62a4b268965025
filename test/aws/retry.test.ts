import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { awsErrorCode, isRetryableAwsError } from '../../src/aws/retry';

function awsError(name: string, httpStatusCode?: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
}

/** What the SDK throws when no HTTP response came back: $metadata without a status code. */
function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code, $metadata: { attempts: 1, totalRetryDelay: 0 } });
}

describe('isRetryableAwsError', () => {
  it.each([
    ['RequestLimitExceeded', 503],
    ['RequestLimitExceeded', 400],
    ['Throttling', 400],
    ['ThrottlingException', 400],
    ['ServiceUnavailable', 503],
    ['InternalError', 500],
    ['Anything', 500],
    ['Anything', 502],
    ['TooManyRequests', 429],
  ])('%s (HTTP %s) is retryable', (name, status) => {
    expect(isRetryableAwsError(awsError(name, status))).toBe(true);
  });

  it.each([
    ['UnauthorizedOperation', 403],
    ['InvalidGroup.NotFound', 400],
    ['InvalidParameterValue', 400],
    ['InvalidPermission.Duplicate', 400],
  ])('%s (HTTP %s) is not retryable', (name, status) => {
    expect(isRetryableAwsError(awsError(name, status))).toBe(false);
  });

  it('network errors without an HTTP response are retryable, with or without $metadata', () => {
    expect(isRetryableAwsError(networkError('ECONNREFUSED'))).toBe(true);
    expect(isRetryableAwsError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('honours the SDK $retryable marker', () => {
    const err = new EC2ServiceException({ name: 'Odd', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(isRetryableAwsError(err)).toBe(false);
    expect(isRetryableAwsError(Object.assign(err, { $retryable: { throttling: true } }))).toBe(true);
  });

  it('programming errors and non-errors are not retryable', () => {
    expect(isRetryableAwsError(new TypeError('x is undefined'))).toBe(false);
    expect(isRetryableAwsError('boom')).toBe(false);
    expect(isRetryableAwsError(undefined)).toBe(false);
  });
});

describe('awsErrorCode', () => {
  it('prefers the AWS code, then the network code, then the name', () => {
    expect(awsErrorCode(awsError('InvalidGroup.NotFound', 400))).toBe('InvalidGroup.NotFound');
    expect(awsErrorCode(Object.assign(new Error('x'), { name: 'Foo', Code: 'Bar' }))).toBe('Bar');
    expect(awsErrorCode(networkError('ECONNREFUSED'))).toBe('ECONNREFUSED');
    expect(awsErrorCode(new Error('plain'))).toBe('Unknown');
    expect(awsErrorCode(42)).toBe('Unknown');
  });
});
