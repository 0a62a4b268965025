/** The process entry point: configuration problems stop it with a message naming the key. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main';

describe('main()', () => {
  const saved = { ...process.env };
  let stderr: string;
  let exit: jest.SpyInstance;
  let write: jest.SpyInstance;

  beforeEach(() => {
    stderr = '';
    write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
  });
  afterEach(() => {
    process.env = { ...saved };
    exit.mockRestore();
    write.mockRestore();
  });

  it('exits non-zero naming the missing variable', async () => {
    process.env = { PATH: saved.PATH };
    await expect(main('/nonexistent/.env')).rejects.toThrow('exit 2');
    expect(stderr).toMatch(/SLACK_BOT_TOKEN: is required/);
  });

  it('exits non-zero naming the bad key of the policy file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-main-'));
    const file = join(dir, 'jit.config.yaml');
    writeFileSync(file, 'approverChannel: C0123ABCD\napprovers: { users: [U0123ABCD] }\ntargets:\n  - { name: prod, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, maxDuration: forever }\n');
    process.env = { PATH: saved.PATH, SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', JIT_CONFIG: file };
    await expect(main('/nonexistent/.env')).rejects.toThrow('exit 2');
    expect(stderr).toContain(`${file} is invalid`);
    expect(stderr).toMatch(/targets\[0\]\.maxDuration: "forever" is not a duration/);
  });

  it('takes the policy from JIT_CONFIG_YAML when it is set, and names it on a problem', async () => {
    process.env = { PATH: saved.PATH, SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', JIT_CONFIG: '/nonexistent/jit.config.yaml', JIT_CONFIG_YAML: 'approverChannel: C0123ABCD\napprovers: { users: [U0123ABCD] }\ntargets:\n  - { name: prod, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, maxDuration: forever }\n' };
    await expect(main('/nonexistent/.env')).rejects.toThrow('exit 2');
    expect(stderr).toContain('JIT_CONFIG_YAML is invalid');
    expect(stderr).not.toContain('/nonexistent/jit.config.yaml');
  });
});
