/**
 * A simulated IAM Identity Center for tests and demos: the SSO Admin API (account assignments,
 * permission sets) and the Identity Store API (user lookup), served by one HTTP server.
 *
 * It speaks awsJson1_1 as @aws-sdk/client-sso-admin and @aws-sdk/client-identitystore send it:
 * POST /, `X-Amz-Target: SWBExternalService.<Operation>` (SSO Admin) or
 * `X-Amz-Target: AWSIdentityStore.<Operation>` (Identity Store), a JSON body, JSON answers
 * (timestamps as epoch seconds). The service is chosen by the target's prefix, so both clients can
 * share one endpoint:
 *
 *   new SSOAdminClient({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })
 *   new IdentitystoreClient({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })
 *
 * Errors are answered as AWS JSON services do: HTTP 400 (500 for InternalServerException) with the
 * header `x-amzn-ErrorType: <Type>` and the body `{"__type": "<Type>", "message": "…", "Message": "…"}`
 * (the SDK reads `__type` first, then `code`, then the header; both spellings of the message
 * are sent, as the services model `Message` and the SDK folds either into `err.message`). The SDK
 * turns these into its own classes (ResourceNotFoundException, …).
 *
 * Supported:
 * - Identity Store GetUserId by AlternateIdentifier.UniqueAttribute with AttributePath
 *   'emails.value' (case-insensitive) or 'userName' (exact); no match: ResourceNotFoundException
 *   (ResourceType USER). ExternalId lookups and other paths: ValidationException. DescribeUser
 *   (UserName, DisplayName, Emails) by UserId.
 * - SSO Admin CreateAccountAssignment / DeleteAccountAssignment (TargetType AWS_ACCOUNT, 12-digit
 *   TargetId, PrincipalType USER or GROUP) answer an IN_PROGRESS status with a fresh RequestId,
 *   always, as AWS does. The change takes effect on the (n+1)th
 *   DescribeAccountAssignmentCreationStatus / …DeletionStatus call for that RequestId, where n is
 *   setProvisioningPolls (default 1: IN_PROGRESS, then SUCCEEDED); with 0 it takes effect at once
 *   and the first describe sees SUCCEEDED. A finished request keeps its final status. A RequestId
 *   that is unknown, of the other kind or of another instance: ResourceNotFoundException.
 * - ListAccountAssignments (InstanceArn, AccountId, PermissionSetArn; MaxResults 1-100, opaque
 *   NextToken): provisioned assignments only, in the order they took effect.
 * - DescribePermissionSet: Name, PermissionSetArn, SessionDuration (PT1H unless given), CreatedDate.
 * - A permission set's role per account: created (provisioned, with the set's inline policy as it
 *   is then) when the first assignment there takes effect, deleted with the last one;
 *   ListAccountsForProvisionedPermissionSet lists those accounts.
 * - GetInlinePolicyForPermissionSet / PutInlinePolicyToPermissionSet (the set's document only:
 *   roles keep what they were provisioned with) / DeleteInlinePolicyFromPermissionSet;
 *   ProvisionPermissionSet (AWS_ACCOUNT with TargetId, or ALL_PROVISIONED_ACCOUNTS) answers
 *   IN_PROGRESS and takes effect like assignments do (setProvisioningPolls), through
 *   DescribePermissionSetProvisioningStatus: the roles then carry the set's inline policy.
 * - sessionDenied: whether a portal session (user, account, issue time) is refused by the role as
 *   provisioned now (no role, or an explicit Deny of "*" whose StringEquals and DateLessThan
 *   conditions it meets), as IAM would evaluate the bot's statements.
 * - Any other operation or target prefix: HTTP 400 UnknownOperationException.
 *
 * Behaviour choices where AWS's is not pinned down here: creating an assignment that exists ends
 * SUCCEEDED without a duplicate; deleting one that does not exist ends SUCCEEDED (nothing to do).
 * Create checks that the permission set was added for that instance (else
 * ResourceNotFoundException); Delete and List do not, so seeded assignments need no permission set.
 * Signatures are not checked. Quirks on demand: failNext, failNextProvisioning, setProvisioningPolls.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLocalServer } from './local-server';

export interface FakeAssignment {
  instanceArn: string;
  permissionSetArn: string;
  accountId: string;
  principalType: 'USER' | 'GROUP';
  principalId: string;
}

export interface FakeSsoCall {
  service: 'sso-admin' | 'identitystore';
  operation: string;
  /** The JSON body of the call. */
  input: Record<string, unknown>;
}

export interface FakeSsoUser {
  identityStoreId: string;
  userId: string;
  userName: string;
  email: string;
  displayName?: string;
}

export interface FakeSso {
  url: string;
  /** Every call received with a known target prefix, including failed ones, in order. */
  calls: FakeSsoCall[];
  /** Identity Store user; returns its UserId (a UUID unless given). Throws on a duplicate user name or email in the store. */
  addUser(u: { identityStoreId: string; userName: string; email: string; userId?: string; displayName?: string }): string;
  addPermissionSet(p: { instanceArn: string; permissionSetArn: string; name: string; sessionDuration?: string /* ISO-8601 e.g. 'PT1H' */ }): void;
  /** Assignments that exist now (provisioned). */
  assignments(): FakeAssignment[];
  /** An assignment that exists already (e.g. standing access), provisioned at once. */
  seedAssignment(a: FakeAssignment): void;
  /** Create/delete requests stay IN_PROGRESS for this many Describe…Status calls before they take effect (default 1: the first describe sees IN_PROGRESS, the second SUCCEEDED). 0 = immediate. */
  setProvisioningPolls(n: number): void;
  /** The next call of `operation` fails with this error type (e.g. 'ThrottlingException' HTTP 400, 'InternalServerException' HTTP 500). Arming twice fails the next two calls. */
  failNext(operation: string, errorType: string, status?: number): void;
  /** The next creation (or deletion) request ends FAILED with this FailureReason instead of succeeding. */
  failNextProvisioning(kind: 'creation' | 'deletion', reason: string): void;
  /** Create/delete requests not yet finished (IN_PROGRESS), by kind. */
  pendingRequests(): { requestId: string; kind: 'creation' | 'deletion'; assignment: FakeAssignment }[];
  /** The permission set's inline policy document (undefined: none). */
  inlinePolicy(permissionSetArn: string): string | undefined;
  /** What the role of the permission set in the account carries (undefined: no role there, or no inline policy). */
  roleInlinePolicy(permissionSetArn: string, accountId: string): { exists: boolean; policy?: string };
  /** As an administrator would set it (no provisioning). */
  setInlinePolicy(permissionSetArn: string, policy: string | undefined): void;
  /** Is a portal session of `userId` on `accountId`, issued at `issuedAt`, refused by the role as provisioned now? */
  sessionDenied(s: { permissionSetArn: string; accountId: string; userId: string; issuedAt: Date }): boolean;
  /** Forgets users, permission sets, assignments, requests, armed faults and calls; polls back to 1. */
  reset(): void;
  close(): Promise<void>;
}

/** port: where to listen (0: any). pageSize: ListAccountAssignments page size when the call sends no MaxResults (default 100). */
export interface FakeSsoOptions {
  port?: number;
  pageSize?: number;
}

const SSO_ADMIN_TARGET = 'SWBExternalService';
const IDENTITY_STORE_TARGET = 'AWSIdentityStore';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_RESULTS = 100;

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;
type Status = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

class SsoFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    /** Further modelled members of the error (e.g. ResourceType). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface PermissionSetRecord {
  instanceArn: string;
  permissionSetArn: string;
  name: string;
  sessionDuration: string;
  createdDate: number;
  inlinePolicy?: string;
}

interface ProvisioningRecord {
  requestId: string;
  instanceArn: string;
  permissionSetArn: string;
  /** The one account of an AWS_ACCOUNT request; undefined for ALL_PROVISIONED_ACCOUNTS. */
  accountId?: string;
  createdDate: number;
  status: Status;
  pollsLeft: number;
}

interface RequestRecord {
  requestId: string;
  kind: 'creation' | 'deletion';
  assignment: FakeAssignment;
  createdDate: number;
  status: Status;
  /** Describe calls still answered IN_PROGRESS. */
  pollsLeft: number;
  /** Set when the request is to end FAILED. */
  failureReason?: string;
}

export async function startFakeSso(opts: FakeSsoOptions = {}): Promise<FakeSso> {
  const calls: FakeSsoCall[] = [];
  const users = new Map<string, FakeSsoUser>(); // by `${identityStoreId} ${userId}`
  const permissionSets = new Map<string, PermissionSetRecord>(); // by ARN
  const provisioned = new Map<string, FakeAssignment>(); // by assignmentKey
  const requests = new Map<string, RequestRecord>(); // by RequestId
  const faults = new Map<string, { type: string; status: number }[]>(); // by operation
  const provisioningFaults: Record<'creation' | 'deletion', string[]> = { creation: [], deletion: [] };
  const roles = new Map<string, { policy?: string }>(); // by `${permissionSetArn} ${accountId}`: the set's role there
  const provisionings = new Map<string, ProvisioningRecord>(); // by RequestId
  let polls = 1;

  const roleKey = (permissionSetArn: string, accountId: string) => `${permissionSetArn} ${accountId}`;
  /** The role follows the assignments: created with the set's policy by the first, deleted with the last. */
  function syncRole(permissionSetArn: string, accountId: string): void {
    const key = roleKey(permissionSetArn, accountId);
    const any = [...provisioned.values()].some((a) => a.permissionSetArn === permissionSetArn && a.accountId === accountId);
    if (!any) roles.delete(key);
    else if (!roles.has(key)) roles.set(key, { policy: permissionSets.get(permissionSetArn)?.inlinePolicy });
  }

  function provisioningStatus(p: ProvisioningRecord): Output {
    return { Status: p.status, RequestId: p.requestId, PermissionSetArn: p.permissionSetArn, CreatedDate: p.createdDate, ...(p.accountId ? { AccountId: p.accountId } : {}) };
  }

  function finishProvisioning(p: ProvisioningRecord): void {
    const policy = permissionSets.get(p.permissionSetArn)?.inlinePolicy;
    for (const [key, role] of roles) {
      const [arn, account] = key.split(' ');
      if (arn === p.permissionSetArn && (p.accountId === undefined || account === p.accountId)) role.policy = policy;
    }
    if (p.accountId !== undefined && !roles.has(roleKey(p.permissionSetArn, p.accountId))) roles.set(roleKey(p.permissionSetArn, p.accountId), { policy });
    p.status = 'SUCCEEDED';
  }

  function permissionSetOf(input: Input): PermissionSetRecord {
    const instanceArn = requiredString(input, 'InstanceArn');
    const permissionSetArn = requiredString(input, 'PermissionSetArn');
    const set = permissionSets.get(permissionSetArn);
    if (!set || set.instanceArn !== instanceArn) throw new SsoFault('ResourceNotFoundException', `Could not find PermissionSet with ARN ${permissionSetArn}.`);
    return set;
  }

  const nowSeconds = (): number => Date.now() / 1000;

  /** Makes the request's change (unless it is to fail) and gives it its final status. */
  function finish(request: RequestRecord): void {
    if (request.failureReason !== undefined) {
      request.status = 'FAILED';
      return;
    }
    const key = assignmentKey(request.assignment);
    if (request.kind === 'creation') {
      if (!provisioned.has(key)) provisioned.set(key, request.assignment);
    } else {
      provisioned.delete(key);
    }
    syncRole(request.assignment.permissionSetArn, request.assignment.accountId);
    request.status = 'SUCCEEDED';
  }

  function statusOf(request: RequestRecord): Output {
    const a = request.assignment;
    return {
      Status: request.status,
      RequestId: request.requestId,
      ...(request.status === 'FAILED' ? { FailureReason: request.failureReason } : {}),
      TargetId: a.accountId,
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: a.permissionSetArn,
      PrincipalType: a.principalType,
      PrincipalId: a.principalId,
      CreatedDate: request.createdDate,
    };
  }

  /** Records a create/delete request; answers its status as of now (IN_PROGRESS, as AWS always answers). */
  function startRequest(kind: 'creation' | 'deletion', input: Input): Output {
    const instanceArn = requiredString(input, 'InstanceArn');
    const accountId = requiredString(input, 'TargetId');
    const targetType = requiredString(input, 'TargetType');
    const permissionSetArn = requiredString(input, 'PermissionSetArn');
    const principalType = requiredString(input, 'PrincipalType');
    const principalId = requiredString(input, 'PrincipalId');
    if (targetType !== 'AWS_ACCOUNT') throw validation(`TargetType '${targetType}' is not valid: AWS_ACCOUNT only.`);
    if (!/^\d{12}$/.test(accountId)) throw validation(`TargetId '${accountId}' is not a 12-digit AWS account id.`);
    if (principalType !== 'USER' && principalType !== 'GROUP') throw validation(`PrincipalType '${principalType}' is not valid: USER or GROUP.`);
    if (kind === 'creation') {
      const set = permissionSets.get(permissionSetArn);
      if (!set || set.instanceArn !== instanceArn) {
        throw new SsoFault('ResourceNotFoundException', `Could not find PermissionSet with ARN ${permissionSetArn}.`);
      }
    }
    const failureReason = provisioningFaults[kind].shift();
    const request: RequestRecord = {
      requestId: randomUUID(),
      kind,
      assignment: { instanceArn, permissionSetArn, accountId, principalType, principalId },
      createdDate: nowSeconds(),
      status: 'IN_PROGRESS',
      pollsLeft: polls,
      ...(failureReason !== undefined ? { failureReason } : {}),
    };
    requests.set(request.requestId, request);
    const answer = statusOf(request);
    if (polls === 0) finish(request);
    return answer;
  }

  function describeRequest(kind: 'creation' | 'deletion', input: Input, idField: string): Output {
    const instanceArn = requiredString(input, 'InstanceArn');
    const requestId = requiredString(input, idField);
    const request = requests.get(requestId);
    if (!request || request.kind !== kind || request.assignment.instanceArn !== instanceArn) {
      throw new SsoFault('ResourceNotFoundException', `Account assignment ${kind} request ${requestId} not found.`);
    }
    if (request.status === 'IN_PROGRESS') {
      if (request.pollsLeft > 0) request.pollsLeft -= 1;
      else finish(request);
    }
    return statusOf(request);
  }

  const ssoAdmin: Record<string, (input: Input) => Output> = {
    CreateAccountAssignment(input) {
      return { AccountAssignmentCreationStatus: startRequest('creation', input) };
    },

    DeleteAccountAssignment(input) {
      return { AccountAssignmentDeletionStatus: startRequest('deletion', input) };
    },

    DescribeAccountAssignmentCreationStatus(input) {
      return { AccountAssignmentCreationStatus: describeRequest('creation', input, 'AccountAssignmentCreationRequestId') };
    },

    DescribeAccountAssignmentDeletionStatus(input) {
      return { AccountAssignmentDeletionStatus: describeRequest('deletion', input, 'AccountAssignmentDeletionRequestId') };
    },

    ListAccountAssignments(input) {
      const instanceArn = requiredString(input, 'InstanceArn');
      const accountId = requiredString(input, 'AccountId');
      const permissionSetArn = requiredString(input, 'PermissionSetArn');
      const maxResults = input.MaxResults ?? opts.pageSize ?? MAX_RESULTS;
      if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS) {
        throw validation(`MaxResults must be an integer from 1 to ${MAX_RESULTS}.`);
      }
      const query = `${instanceArn} ${accountId} ${permissionSetArn}`;
      const start = input.NextToken === undefined ? 0 : offsetOf(input.NextToken, query);
      const found = [...provisioned.values()].filter((a) => a.instanceArn === instanceArn && a.accountId === accountId && a.permissionSetArn === permissionSetArn);
      const end = start + maxResults;
      return {
        AccountAssignments: found.slice(start, end).map((a) => ({
          AccountId: a.accountId,
          PermissionSetArn: a.permissionSetArn,
          PrincipalType: a.principalType,
          PrincipalId: a.principalId,
        })),
        ...(end < found.length ? { NextToken: tokenFor(end, query) } : {}),
      };
    },

    GetInlinePolicyForPermissionSet(input) {
      const set = permissionSetOf(input);
      return set.inlinePolicy !== undefined ? { InlinePolicy: set.inlinePolicy } : {};
    },

    PutInlinePolicyToPermissionSet(input) {
      const set = permissionSetOf(input);
      const policy = requiredString(input, 'InlinePolicy');
      if (policy.length > 32_768) throw validation('InlinePolicy is longer than 32768 characters.');
      try {
        JSON.parse(policy);
      } catch {
        throw validation('InlinePolicy is not a valid policy document.');
      }
      set.inlinePolicy = policy;
      return {};
    },

    DeleteInlinePolicyFromPermissionSet(input) {
      delete permissionSetOf(input).inlinePolicy;
      return {};
    },

    ProvisionPermissionSet(input) {
      const set = permissionSetOf(input);
      const targetType = requiredString(input, 'TargetType');
      if (targetType !== 'AWS_ACCOUNT' && targetType !== 'ALL_PROVISIONED_ACCOUNTS') throw validation(`TargetType '${targetType}' is not valid: AWS_ACCOUNT or ALL_PROVISIONED_ACCOUNTS.`);
      const accountId = targetType === 'AWS_ACCOUNT' ? requiredString(input, 'TargetId') : undefined;
      if (accountId !== undefined && !/^\d{12}$/.test(accountId)) throw validation(`TargetId '${accountId}' is not a 12-digit AWS account id.`);
      const p: ProvisioningRecord = { requestId: randomUUID(), instanceArn: set.instanceArn, permissionSetArn: set.permissionSetArn, ...(accountId ? { accountId } : {}), createdDate: nowSeconds(), status: 'IN_PROGRESS', pollsLeft: polls };
      provisionings.set(p.requestId, p);
      const answer = provisioningStatus(p);
      if (polls === 0) finishProvisioning(p);
      return { PermissionSetProvisioningStatus: answer };
    },

    DescribePermissionSetProvisioningStatus(input) {
      const instanceArn = requiredString(input, 'InstanceArn');
      const requestId = requiredString(input, 'ProvisionPermissionSetRequestId');
      const p = provisionings.get(requestId);
      if (!p || p.instanceArn !== instanceArn) throw new SsoFault('ResourceNotFoundException', `Permission set provisioning request ${requestId} not found.`);
      if (p.status === 'IN_PROGRESS') {
        if (p.pollsLeft > 0) p.pollsLeft -= 1;
        else finishProvisioning(p);
      }
      return { PermissionSetProvisioningStatus: provisioningStatus(p) };
    },

    ListAccountsForProvisionedPermissionSet(input) {
      const set = permissionSetOf(input);
      const accounts = [...roles.keys()].filter((k) => k.startsWith(`${set.permissionSetArn} `)).map((k) => k.split(' ')[1]!);
      const maxResults = input.MaxResults ?? opts.pageSize ?? MAX_RESULTS;
      if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS) throw validation(`MaxResults must be an integer from 1 to ${MAX_RESULTS}.`);
      const query = `accounts ${set.permissionSetArn}`;
      const start = input.NextToken === undefined ? 0 : offsetOf(input.NextToken, query);
      const end = start + maxResults;
      return { AccountIds: accounts.slice(start, end), ...(end < accounts.length ? { NextToken: tokenFor(end, query) } : {}) };
    },

    DescribePermissionSet(input) {
      const instanceArn = requiredString(input, 'InstanceArn');
      const permissionSetArn = requiredString(input, 'PermissionSetArn');
      const set = permissionSets.get(permissionSetArn);
      if (!set || set.instanceArn !== instanceArn) {
        throw new SsoFault('ResourceNotFoundException', `Could not find PermissionSet with ARN ${permissionSetArn}.`);
      }
      return {
        PermissionSet: {
          Name: set.name,
          PermissionSetArn: set.permissionSetArn,
          SessionDuration: set.sessionDuration,
          CreatedDate: set.createdDate,
        },
      };
    },
  };

  const userNotFound = (message: string, resourceId?: string): SsoFault =>
    new SsoFault('ResourceNotFoundException', message, 400, { ResourceType: 'USER', ...(resourceId ? { ResourceId: resourceId } : {}) });

  const identityStore: Record<string, (input: Input) => Output> = {
    GetUserId(input) {
      const identityStoreId = requiredString(input, 'IdentityStoreId');
      const alternate = input.AlternateIdentifier as Input | undefined;
      const unique = alternate?.UniqueAttribute as Input | undefined;
      if (!unique) throw validation('This stand-in looks users up by AlternateIdentifier.UniqueAttribute only.');
      const path = unique.AttributePath;
      const value = unique.AttributeValue;
      if (typeof value !== 'string') throw validation('AttributeValue must be a string.');
      let match: (u: FakeSsoUser) => boolean;
      if (path === 'emails.value') match = (u) => u.email.toLowerCase() === value.toLowerCase();
      else if (path === 'userName') match = (u) => u.userName === value;
      else throw validation(`AttributePath '${String(path)}' is not supported: emails.value or userName.`);
      const user = [...users.values()].find((u) => u.identityStoreId === identityStoreId && match(u));
      if (!user) throw userNotFound(`USER not found with ${String(path)} '${value}'.`);
      return { IdentityStoreId: identityStoreId, UserId: user.userId };
    },

    DescribeUser(input) {
      const identityStoreId = requiredString(input, 'IdentityStoreId');
      const userId = requiredString(input, 'UserId');
      const user = users.get(`${identityStoreId} ${userId}`);
      if (!user) throw userNotFound(`USER not found with UserId '${userId}'.`, userId);
      return {
        IdentityStoreId: identityStoreId,
        UserId: user.userId,
        UserName: user.userName,
        ...(user.displayName !== undefined ? { DisplayName: user.displayName } : {}),
        Emails: [{ Value: user.email, Type: 'work', Primary: true }],
      };
    },
  };

  function handle(target: string, body: string): { status: number; payload: Output; errorType?: string } {
    const dot = target.indexOf('.');
    const prefix = dot < 0 ? target : target.slice(0, dot);
    const operation = dot < 0 ? '' : target.slice(dot + 1);
    const service = prefix === SSO_ADMIN_TARGET ? 'sso-admin' : prefix === IDENTITY_STORE_TARGET ? 'identitystore' : undefined;
    try {
      let input: Input;
      try {
        const parsed: unknown = body === '' ? {} : JSON.parse(body);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        input = parsed as Input;
      } catch {
        if (service) calls.push({ service, operation, input: {} });
        throw new SsoFault('SerializationException', 'The request body is not a JSON object.');
      }
      if (!service) throw new SsoFault('UnknownOperationException', `Unknown target '${target}'.`);
      calls.push({ service, operation, input });
      const armed = faults.get(operation)?.shift();
      if (armed) throw new SsoFault(armed.type, `Injected ${armed.type} for ${operation}.`, armed.status);
      const operations = service === 'sso-admin' ? ssoAdmin : identityStore;
      const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
      if (!run) throw new SsoFault('UnknownOperationException', `Unknown operation ${target}.`);
      return { status: 200, payload: run(input) };
    } catch (err) {
      const fault = err instanceof SsoFault ? err : new SsoFault('InternalServerException', String(err), 500);
      return {
        status: fault.status,
        errorType: fault.type,
        payload: { __type: fault.type, message: fault.message, Message: fault.message, ...fault.extra },
      };
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const requestId = randomUUID();
    const target = req.headers['x-amz-target'];
    const { status, payload, errorType } =
      req.method === 'POST'
        ? handle(typeof target === 'string' ? target : '', body)
        : { status: 405, errorType: 'UnknownOperationException', payload: { __type: 'UnknownOperationException', message: 'This fake SSO accepts POST only.' } };
    const headers: Record<string, string> = { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId };
    if (errorType) {
      headers['x-amzn-errortype'] = errorType;
      if (payload.RequestId === undefined && errorType !== 'UnknownOperationException') payload.RequestId = requestId;
    }
    res.writeHead(status, headers);
    res.end(JSON.stringify(payload));
  }

  const server = await startLocalServer(serve, opts.port);

  return {
    url: server.url,
    calls,
    addUser(u) {
      const clash = [...users.values()].find(
        (other) => other.identityStoreId === u.identityStoreId && (other.userName === u.userName || other.email.toLowerCase() === u.email.toLowerCase()),
      );
      if (clash) throw new Error(`fake SSO: a user named ${clash.userName} <${clash.email}> is already in ${u.identityStoreId}`);
      const userId = u.userId ?? randomUUID();
      users.set(`${u.identityStoreId} ${userId}`, {
        identityStoreId: u.identityStoreId,
        userId,
        userName: u.userName,
        email: u.email,
        ...(u.displayName !== undefined ? { displayName: u.displayName } : {}),
      });
      return userId;
    },
    addPermissionSet(p) {
      permissionSets.set(p.permissionSetArn, {
        instanceArn: p.instanceArn,
        permissionSetArn: p.permissionSetArn,
        name: p.name,
        sessionDuration: p.sessionDuration ?? 'PT1H',
        createdDate: nowSeconds(),
      });
    },
    assignments: () => structuredClone([...provisioned.values()]),
    seedAssignment(a) {
      const key = assignmentKey(a);
      if (!provisioned.has(key)) provisioned.set(key, { ...a });
      syncRole(a.permissionSetArn, a.accountId);
    },
    inlinePolicy: (arn) => permissionSets.get(arn)?.inlinePolicy,
    roleInlinePolicy(arn, accountId) {
      const role = roles.get(roleKey(arn, accountId));
      return role ? { exists: true, ...(role.policy !== undefined ? { policy: role.policy } : {}) } : { exists: false };
    },
    setInlinePolicy(arn, policy) {
      const set = permissionSets.get(arn);
      if (!set) throw new Error(`fake SSO: no permission set ${arn}`);
      if (policy === undefined) delete set.inlinePolicy;
      else set.inlinePolicy = policy;
    },
    sessionDenied({ permissionSetArn, accountId, userId, issuedAt }) {
      const role = roles.get(roleKey(permissionSetArn, accountId));
      if (!role) return true;
      return deniesSession(role.policy, { 'identitystore:userId': userId, 'aws:PrincipalAccount': accountId }, issuedAt.getTime());
    },
    setProvisioningPolls(n) {
      if (!Number.isInteger(n) || n < 0) throw new Error(`fake SSO: provisioning polls must be a whole number >= 0, not ${n}`);
      polls = n;
    },
    failNext(operation, errorType, status) {
      const list = faults.get(operation) ?? [];
      list.push({ type: errorType, status: status ?? (errorType === 'InternalServerException' ? 500 : 400) });
      faults.set(operation, list);
    },
    failNextProvisioning(kind, reason) {
      provisioningFaults[kind].push(reason);
    },
    pendingRequests: () =>
      [...requests.values()]
        .filter((r) => r.status === 'IN_PROGRESS')
        .map((r) => ({ requestId: r.requestId, kind: r.kind, assignment: { ...r.assignment } })),
    reset() {
      calls.length = 0;
      users.clear();
      permissionSets.clear();
      provisioned.clear();
      requests.clear();
      faults.clear();
      provisioningFaults.creation.length = 0;
      provisioningFaults.deletion.length = 0;
      roles.clear();
      provisionings.clear();
      polls = 1;
    },
    close: () => server.close(),
  };
}

/**
 * IAM's verdict on a session for the statements this stand-in models: an explicit Deny of every
 * action ("*") whose StringEquals values (a string or a list) all match the session's keys and
 * whose DateLessThan aws:TokenIssueTime is after the session's issue time. Other statements, and
 * other condition operators, are not evaluated (such a statement does not deny here).
 */
function deniesSession(policy: string | undefined, keys: Record<string, string>, issuedAtMs: number): boolean {
  if (!policy) return false;
  const doc = JSON.parse(policy) as { Statement?: unknown };
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : []) as Array<Record<string, unknown>>;
  return statements.some((st) => {
    const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
    if (st.Effect !== 'Deny' || !actions.includes('*')) return false;
    const condition = (st.Condition ?? {}) as Record<string, Record<string, unknown>>;
    for (const [operator, tests] of Object.entries(condition)) {
      for (const [key, value] of Object.entries(tests)) {
        const values = (Array.isArray(value) ? value : [value]).map(String);
        if (operator === 'StringEquals') {
          if (!(key in keys) || !values.includes(keys[key]!)) return false;
        } else if (operator === 'DateLessThan' && key === 'aws:TokenIssueTime') {
          if (!values.some((v) => issuedAtMs < Date.parse(v))) return false;
        } else return false;
      }
    }
    return true;
  });
}

function assignmentKey(a: FakeAssignment): string {
  return JSON.stringify([a.instanceArn, a.permissionSetArn, a.accountId, a.principalType, a.principalId]);
}

function requiredString(input: Input, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') throw validation(`${field} is required and must be a non-empty string.`);
  return value;
}

function validation(message: string): SsoFault {
  return new SsoFault('ValidationException', message);
}

/** An opaque NextToken: the offset of the next page, bound to the query it pages. */
function tokenFor(offset: number, query: string): string {
  return Buffer.from(JSON.stringify({ offset, query })).toString('base64url');
}

function offsetOf(token: unknown, query: string): number {
  try {
    if (typeof token !== 'string') throw new Error('not a string');
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown; query?: unknown };
    if (parsed.query === query && typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    // falls through to the ValidationException
  }
  throw validation('The NextToken is not valid for this request.');
}
