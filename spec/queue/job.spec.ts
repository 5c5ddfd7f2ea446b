/** parseJobData: a job from Redis is checked field by field; nothing of it becomes config text. */
import { describe, expect, it } from 'vitest';
import { BadJobError, parseJobData } from '../../lib/queue/job.js';

const good = { v: 1, runId: 'deploy-42', target: { host: 'web1.example', port: 2222, username: 'ops', label: 'ops@web1.example:2222' }, command: 'echo "a\nb"', timeout: 60_000, capture: 1024, retries: 5 };

describe('parseJobData', () => {
  it('keeps a good job, known fields only (IPv4, IPv6, underscores, env, stdin)', () => {
    expect(parseJobData({ ...good, extra: 'dropped' })).toEqual(good);
    expect(parseJobData({ ...good, target: { host: '::1', label: '[::1]' } }).target).toEqual({ host: '::1', label: '[::1]' });
    expect(parseJobData({ ...good, target: { host: 'db_2', label: 'db_2', alias: 'db-*' } }).target.alias).toBe('db-*');
    const withAll = parseJobData({ ...good, env: { LC_ALL: 'C' }, stdin: Buffer.from('hi').toString('base64'), pty: true, user: 'deploy' });
    expect(withAll).toMatchObject({ env: { LC_ALL: 'C' }, stdin: 'aGk=', pty: true, user: 'deploy' });
  });

  it.each([
    ['user', { user: 'deploy\nStrictHostKeyChecking no' }, /user must be one word/],
    ['user as an option', { user: '-oProxyCommand=x' }, /user must be one word/],
    ['host with a space', { target: { ...good.target, host: 'a b' } }, /target\.host/],
    ['host as an option', { target: { ...good.target, host: '-oProxyCommand=x' } }, /target\.host/],
    ['port 0', { target: { ...good.target, port: 0 } }, /target\.port/],
    ['port as text', { target: { ...good.target, port: '22' } }, /target\.port/],
    ['label with an escape', { target: { ...good.target, label: 'a\u001b[2J' } }, /target\.label holds a control character/],
    ['env name', { env: { 'PATH=/tmp': 'x' } }, /env has a bad variable name/],
    ['env value with NUL', { env: { A: 'x\u0000y' } }, /env\.A/],
    ['stdin not base64', { stdin: 'not base64!' }, /stdin/],
    ['runId with a colon', { runId: 'a:b' }, /runId/],
    ['version', { v: 2 }, /format version/],
    ['retries', { retries: 1e9 }, /retries/],
    ['timeout', { timeout: -1 }, /timeout/],
    ['command with NUL', { command: 'id\u0000' }, /command holds a NUL/],
  ])('refuses a bad %s', (_name, change, reason) => {
    expect(() => parseJobData({ ...good, ...change })).toThrow(BadJobError);
    expect(() => parseJobData({ ...good, ...change })).toThrow(reason);
  });
});
