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
  middlewareStack: { add(middleware: never, options: never): void; remove(toRemove: string): boolean };
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

/** The SDK's own logging middleware, by its name in every v3 client's stack. */
export const SDK_LOGGER_MIDDLEWARE = 'loggerMiddleware';

/**
 * Takes the SDK's logging middleware out of `client`'s stack. The bot gives its clients no logger,
 * yet that middleware runs the sensitive-data filter over every call's input and output for a log
 * line the default no-op logger drops: measured on a drift sweep of 10,000 rules, about 150 ms of
 * CPU for nothing. The bot logs AWS calls itself (adapters, metrics) and never their payloads.
 */
export function withoutSdkLogging<C extends InstrumentableClient>(client: C): C {
  client.middlewareStack.remove(SDK_LOGGER_MIDDLEWARE);
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
