/**
 * Credentials in other accounts: the bot assumes a target's `assumeRole` (STS AssumeRole from its
 * own credentials, with the role's external id) and hands the SDK clients of that account a
 * credential provider. One AssumeRole per role serves every client and Region of that account, and
 * is reused until REFRESH_BEFORE_MS before it expires; concurrent callers share one call.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { AssumeRole } from '../domain/types';
import type { Clock } from '../ports';
import { awsFailure } from './retry';

/** Credentials are renewed this long before they expire (the SDK's own refresh window is 5 min). */
export const REFRESH_BEFORE_MS = 10 * 60_000;
/** One hour: the longest STS allows when the bot itself runs on assumed-role credentials (role chaining). */
const SESSION_SECONDS = 3_600;
/** CloudTrail in the other account shows this session name. */
export const SESSION_NAME = 'jit-access-bot';

export class AssumedRoles {
  private readonly cache = new Map<string, Promise<AwsCredentialIdentity>>();

  constructor(
    private readonly sts: STSClient,
    private readonly clock: Clock,
  ) {}

  /** The credential provider of `role`, for an SDK client's `credentials`. */
  provider(role: AssumeRole): AwsCredentialIdentityProvider {
    return () => this.credentials(role);
  }

  async credentials(role: AssumeRole): Promise<AwsCredentialIdentity> {
    const key = `${role.roleArn}|${role.externalId ?? ''}`;
    const cached = this.cache.get(key);
    if (cached) {
      const creds = await cached.catch(() => undefined);
      if (creds?.expiration && creds.expiration.getTime() - REFRESH_BEFORE_MS > this.clock.now().getTime()) return creds;
      if (this.cache.get(key) !== cached) return this.credentials(role); // someone renewed it meanwhile
    }
    const fresh = this.assume(role);
    this.cache.set(key, fresh);
    fresh.catch(() => {
      if (this.cache.get(key) === fresh) this.cache.delete(key);
    });
    return fresh;
  }

  private async assume(role: AssumeRole): Promise<AwsCredentialIdentity> {
    try {
      const out = await this.sts.send(new AssumeRoleCommand({ RoleArn: role.roleArn, RoleSessionName: SESSION_NAME, DurationSeconds: SESSION_SECONDS, ...(role.externalId ? { ExternalId: role.externalId } : {}) }));
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) throw new Error('STS returned no credentials');
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
    } catch (err) {
      throw awsFailure(err, `assuming ${role.roleArn}`, "check the role's trust policy (the bot's role, sts:AssumeRole, the external id)");
    }
  }
}
