/**
 * Counts failed AWS SDK call attempts by service and error code, for metrics, without touching
 * the adapters: main.ts adds this middleware to every client it builds. It sits in the
 * deserialize step, inside the SDK's retry loop, so each failed attempt counts (a throttled
 * call the SDK retried shows as RequestLimitExceeded / ThrottlingException even when the call
 * finally succeeded).
 */

export type AwsErrorSink = (service: string, code: string) => void;

/** The part of an SDK v3 client this needs (structural, so any client fits). */
export interface InstrumentableClient {
  middlewareStack: { add(middleware: never, options: never): void };
}

type Handler = (args: unknown) => Promise<unknown>;

export const AWS_ERRORS_MIDDLEWARE = 'jitAwsErrors';

/** Adds the error counter to `client` once, labelled `service` (EC2, IAM, STS, SSM, DynamoDB). */
export function countAwsErrors<C extends InstrumentableClient>(client: C, service: string, sink: AwsErrorSink): C {
  const middleware = (next: Handler) => async (args: unknown) => {
    try {
      return await next(args);
    } catch (err) {
      sink(service, errorCode(err));
      throw err;
    }
  };
  const add = client.middlewareStack.add as unknown as (m: (next: Handler) => Handler, o: { step: 'deserialize'; name: string; priority: 'high'; override: boolean }) => void;
  add.call(client.middlewareStack, middleware, { step: 'deserialize', name: AWS_ERRORS_MIDDLEWARE, priority: 'high', override: true });
  return client;
}

/** The service's error code (e.g. RequestLimitExceeded), or the network error's (ECONNREFUSED). */
export function errorCode(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; Code?: unknown };
  for (const c of [e?.Code, e?.name, e?.code]) {
    if (typeof c === 'string' && c !== '' && c !== 'Error') return c.slice(0, 64);
  }
  return 'Unknown';
}
