// What an operator's environment can get wrong (docs/contract.md "Environment"): an empty variable
// is unset; a port out of range, a DATABASE_URL of an unknown scheme or a REDIS_URL that is not one
// stop the start naming the variable (a typo in a cluster node's DATABASE_URL read as a file path
// would start a node on a SQLite file of its own); and a start that fails later (the port taken,
// HOST not an address here, the database not reached) says which variable to change, with the
// driver's own words, and no stack.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminTokenWarning, ConfigError, parseConfig } from '../../server/config';
import { startFailure } from '../../server/start';
import { MIGRATION_FAILED } from '../../server/store/kysely-store';
import { spawnServer } from '../support/server-process';

const config = (env: Record<string, string>) => parseConfig({ ADMIN_TOKEN: 'x'.repeat(16), ...env });
const refusal = (env: Record<string, string>) => {
  try {
    config(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('the environment at start', () => {
  it('reads an empty variable as unset, and refuses a port out of range', () => {
    expect(config({ PORT: '' }).port).toBe(3000);
    expect(config({ PORT: '  ', ADMIN_TOKEN: '' }).adminToken).toBeUndefined();
    expect(config({ PORT: '0' }).port).toBe(0);
    expect(refusal({ PORT: '70000' })).toMatch(/PORT/);
  });

  it('takes an ADMIN_TOKEN of any length, warning of one under 16 characters; refuses DENIAL_RETENTION_DAYS past ten years', () => {
    expect(config({ ADMIN_TOKEN: 'op-secret-123' }).adminToken).toBe('op-secret-123');
    expect(adminTokenWarning(config({ ADMIN_TOKEN: 'op-secret-123' }))).toMatch(/^ADMIN_TOKEN is 13 characters long: .*at least 16/);
    expect(adminTokenWarning(config({}))).toBeUndefined();
    expect(adminTokenWarning(config({ ADMIN_TOKEN: '' }))).toBeUndefined();
    expect(refusal({ ADMIN_TOKEN: 'x'.repeat(513) })).toMatch(/ADMIN_TOKEN must be at most 512 characters/);
    expect(config({ DENIAL_RETENTION_DAYS: '3650' }).denialRetentionDays).toBe(3650);
    expect(refusal({ DENIAL_RETENTION_DAYS: '3651' })).toMatch(/DENIAL_RETENTION_DAYS: /);
  });

  it('reads numbers in decimal digits only, as the REST API does', () => {
    expect(config({ PORT: ' 4000 ', KICK_COOLDOWN_SEC: '0' })).toMatchObject({ port: 4000, kickCooldownSec: 0 });
    for (const [name, value] of [['IDLE_TIMEOUT_MAX_SEC', '0x10'], ['KICK_COOLDOWN_SEC', '0b11'], ['KICK_COOLDOWN_SEC', '1e3'], ['PORT', '3000.0'], ['NODE_TIMEOUT_MS', '-1']]) {
      expect(refusal({ [name!]: value! })).toContain(`${name}: expected a whole number in decimal digits`);
    }
  });

  it('a license\'s default idle timeout is 300 s, or the nearer bound where 300 is outside IDLE_TIMEOUT_MIN_SEC to IDLE_TIMEOUT_MAX_SEC', () => {
    expect(config({}).defaultIdleTimeoutSec).toBe(300);
    expect(config({ IDLE_TIMEOUT_MIN_SEC: '1', IDLE_TIMEOUT_MAX_SEC: '100' }).defaultIdleTimeoutSec).toBe(100);
    expect(config({ IDLE_TIMEOUT_MIN_SEC: '600', IDLE_TIMEOUT_MAX_SEC: '7200' }).defaultIdleTimeoutSec).toBe(600);
  });

  it('takes SQLite paths, :memory: and postgres:// URLs in any case, and refuses any other scheme, hiding its password', () => {
    expect(config({ DATABASE_URL: './data/x.db' }).databaseUrl).toBe('./data/x.db');
    expect(config({ DATABASE_URL: ':memory:' }).databaseUrl).toBe(':memory:');
    expect(config({ DATABASE_URL: 'sqlite:///tmp/x.db' }).databaseUrl).toBe('sqlite:///tmp/x.db');
    expect(config({ DATABASE_URL: 'POSTGRES://u:p@db:5432/seats' }).databaseUrl).toBe('postgres://u:p@db:5432/seats');
    expect(config({ DATABASE_URL: 'postgresql://db/seats' }).databaseUrl).toBe('postgresql://db/seats');
    for (const url of ['postgress://seats:secretpw@db/seats', 'mysql://u:secretpw@localhost/x', 'file:/tmp/x.db', 'postgres:db']) {
      const said = refusal({ DATABASE_URL: url });
      expect(said).toMatch(/^DATABASE_URL: /);
      expect(said).not.toContain('secretpw');
    }
  });

  it('refuses a REDIS_URL that is not a redis:// URL with a host and a port in range', () => {
    expect(config({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config({ REDIS_URL: 'rediss://cache.example:6380' }).redisUrl).toBe('rediss://cache.example:6380');
    for (const url of ['notaurl', 'redis://127.0.0.1:99999', 'http://127.0.0.1:6379']) expect(refusal({ REDIS_URL: url })).toMatch(/^REDIS_URL: /);
  });

  it('refuses settings that do not agree: a node timeout under two heartbeats, a first webhook retry later than the longest', () => {
    expect(refusal({ HEARTBEAT_INTERVAL_MS: '2000', NODE_TIMEOUT_MS: '3000' })).toMatch(/^NODE_TIMEOUT_MS \(3000\) must be at least twice HEARTBEAT_INTERVAL_MS \(2000\)/);
    expect(config({ HEARTBEAT_INTERVAL_MS: '1500', NODE_TIMEOUT_MS: '3000' }).nodeTimeoutMs).toBe(3000);
    expect(refusal({ WEBHOOK_RETRY_BASE_MS: '100000', WEBHOOK_RETRY_MAX_MS: '1000' })).toMatch(/^WEBHOOK_RETRY_BASE_MS \(100000\) is above WEBHOOK_RETRY_MAX_MS \(1000\)/);
  });

  it('says which variable a failed start is about, in the driver\'s words', () => {
    const env = { PORT: '4000', HOST: 'nowhere.invalid', DATABASE_URL: 'postgres://seats:secretpw@db:5432/seats' };
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use :::4000'), { code: 'EADDRINUSE', syscall: 'listen' });
    expect(startFailure(inUse, env)).toBe('port 4000 is in use by another process; set PORT to a free one (listen EADDRINUSE: address already in use :::4000)');
    const noHost = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND', syscall: 'getaddrinfo' });
    expect(startFailure(noHost, env)).toMatch(/^HOST=nowhere\.invalid is not an address of this machine/);
    const refused = new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')], '');
    const migration = new Error(MIGRATION_FAILED, { cause: refused });
    expect(startFailure(migration, env)).toBe(
      'DATABASE_URL=postgres://***@db:5432/seats: the database could not be reached or migrated (database migration failed: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432)',
    );
    const sqlite = Object.assign(new Error('unable to open database file'), { code: 'SQLITE_CANTOPEN' });
    expect(startFailure(sqlite, { DATABASE_URL: '/proc/x.db' })).toBe('DATABASE_URL=/proc/x.db: the SQLite file could not be opened or written (unable to open database file)');
    // Anything else keeps its stack.
    expect(startFailure(new Error('something else'), env)).toMatch(/^Error: something else\n\s+at /);
  });

  it('npm start with a short ADMIN_TOKEN starts, warns of it, and takes it as the operator\'s', async () => {
    const node = await spawnServer({ ADMIN_TOKEN: 'op-secret-123' }).ready;
    try {
      expect(node.output()).toContain('ADMIN_TOKEN is 13 characters long');
      const res = await fetch(`${node.url}/api/v1/tenants`, { method: 'POST', headers: { authorization: 'Bearer op-secret-123', 'content-type': 'application/json' }, body: '{"name":"Acme"}' });
      expect(res.status).toBe(201);
    } finally {
      await node.stop();
    }
  });

  it('npm start on a port already taken exits 1 naming PORT, with no stack', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const failed = await spawnServer({ PORT: String(port), DATABASE_URL: ':memory:' }).ready.then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(failed).toContain(`the seat server could not start: port ${port} is in use by another process; set PORT to a free one`);
      expect(failed).not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
  });

  it('Ctrl-C right after the start (a signal to the whole process group, esbuild too) stops with exit 0 and logs no error', async () => {
    // As a terminal does: the server and its children in a group of their own, all signalled. The
    // signal comes while the demo is set up and the pages are still being built.
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', DEMO: 'on', DATABASE_URL: ':memory:' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // The pages' build starts with the server and takes longer than the listen: it is under way now.
      await expect.poll(() => out.includes('seat server listening'), { timeout: 30_000, interval: 10 }).toBe(true);
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(0);
      expect(out).toContain('stopping');
      expect(out).not.toMatch(/"level":(50|60)/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
