import { spawn } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../api/auth.js';
import { Migrator } from 'kysely/migration';
import { migrateToLatest, openDatabase, type Db } from '../../db/connect.js';
import { maintain } from '../../runtime/embedded-maintenance.js';
import { migrationProvider } from '../../migrations/index.js';
import { hashToken } from '../../platform/secrets.js';
import { createTestDatabase, databaseKinds, openTestDatabase } from '../support/databases.js';

describe.each(databaseKinds)('database on %s', (kind) => {
  let db: Db;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(kind));
  });
  afterAll(() => dispose?.());

  it('migrates to the latest schema, and migrating again changes nothing', async () => {
    await migrateToLatest(db);
    const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = current_schema() order by tablename`.execute(db);
    expect(tables.rows.map((r) => r.tablename)).toEqual(
      expect.arrayContaining(['api_tokens', 'chargers', 'connector_status', 'incident_faults', 'incident_steps', 'incidents', 'outbox', 'status_log']),
    );
  });

  it('notes, on upgrade, a workflow that may run for every charger and connector known before (0008)', async () => {
    const database = await createTestDatabase(kind);
    const old = openDatabase(database.target);
    try {
      const migrator = new Migrator({ db: old, provider: migrationProvider });
      expect((await migrator.migrateTo('0007_gateway_write_path')).error).toBeUndefined();
      await sql`insert into chargers (id, password_hash) values ('CP-1', 'x'), ('CP-2', 'x')`.execute(old);
      await sql`insert into connector_status (charger_id, connector_id, status, at) values ('CP-1', 2, 'Faulted', now())`.execute(old);
      await sql`
        insert into incidents (id, workflow_id, run_id, charger_id, connector_id, status, priority, opened_at, respond_by, fix_by, revision, updated_at)
        values ('inc-1', 'incident:CP-2:1', 'run', 'CP-2', 1, 'open', 'P2', now(), now(), now(), 1, now())
      `.execute(old);
      await migrateToLatest(old);
      const noted = await old.selectFrom('startedWorkflows').select('workflowId').orderBy('workflowId').execute();
      expect(noted.map((n) => n.workflowId)).toEqual(['connectivity:CP-1', 'connectivity:CP-2', 'incident:CP-1:0', 'incident:CP-1:2', 'incident:CP-2:0', 'incident:CP-2:1']);
    } finally {
      await old.destroy();
      await database.dispose();
    }
  });

  it('moves meter samples into one row per meter value on upgrade, and back on downgrade (0010)', async () => {
    const database = await createTestDatabase(kind);
    const old = openDatabase(database.target);
    const samples = () =>
      old
        .selectFrom('meterSamples')
        .select(['chargerId', 'connectorId', 'transactionId', 'measurand', 'phase', 'location', 'unit', 'context', 'value'])
        .select(sql<string>`sampled_at::text`.as('at'))
        .orderBy('sampledAt')
        .orderBy('measurand')
        .orderBy('phase')
        .execute();
    try {
      const migrator = new Migrator({ db: old, provider: migrationProvider });
      expect((await migrator.migrateTo('0009_outbox_retention')).error).toBeUndefined();
      await sql`
        insert into meter_samples (charger_id, connector_id, transaction_id, sampled_at, measurand, phase, location, unit, context, value) values
          ('CP-1', 1, '7', '2026-11-24T10:00:00Z', 'Energy.Active.Import.Register', '', 'Outlet', 'Wh', 'Sample.Periodic', 15500),
          ('CP-1', 1, '7', '2026-11-24T10:00:00Z', 'Current.Import', 'L1', '', 'A', null, 16.5),
          ('CP-1', 1, '7', '2026-11-24T10:00:00Z', 'Current.Import', 'L2', '', 'A', null, 16.25),
          ('CP-1', 2, null, '2026-11-24T10:05:00Z', 'Energy.Active.Import.Register', '', '', 'Wh', null, 900)
      `.execute(old);
      const before = await samples();

      await migrateToLatest(old);
      const rows = await old.selectFrom('meterValues').select(['connectorId', 'transactionId']).select(sql<number>`jsonb_array_length(samples)`.as('n')).orderBy('connectorId').execute();
      expect(rows).toEqual([
        { connectorId: 1, transactionId: '7', n: 3 },
        { connectorId: 2, transactionId: null, n: 1 },
      ]);
      // The view shows every sample as the table held it.
      expect((await samples()).map((s) => ({ ...s, value: Number(s.value) }))).toEqual(before.map((s) => ({ ...s, value: Number(s.value) })));

      expect((await migrator.migrateTo('0009_outbox_retention')).error).toBeUndefined();
      expect((await samples()).map((s) => ({ ...s, value: Number(s.value) }))).toEqual(before.map((s) => ({ ...s, value: Number(s.value) })));
    } finally {
      await old.destroy();
      await database.dispose();
    }
  });

  it('makes CONCIERGE_ADMIN_TOKEN the one admin token: a new value replaces the generated or earlier one', async () => {
    const generated = await ensureAdminToken(db, undefined);
    expect(generated).toMatch(/^cgt_/);
    expect(await ensureAdminToken(db, undefined)).toBeNull();
    const admins = () => db.selectFrom('apiTokens').select('tokenHash').where('name', '=', 'admin').execute();
    await ensureAdminToken(db, 'first-configured-token-123');
    await ensureAdminToken(db, 'first-configured-token-123');
    expect(await admins()).toEqual([{ tokenHash: hashToken('first-configured-token-123') }]);
    await ensureAdminToken(db, 'rotated-configured-token-456');
    expect(await admins()).toEqual([{ tokenHash: hashToken('rotated-configured-token-456') }]);
  });

  it('returns bigint ids as strings on every driver', async () => {
    await db.insertInto('chargers').values({ id: 'DB-1', passwordHash: 'x', siteId: null, vendor: null, model: null, serialNumber: null, firmwareVersion: null, protocol: null, gatewayNode: null, connectedAt: null, lastSeenAt: null, bootedAt: null }).execute();
    const { id } = await db.insertInto('outbox').values({ chargerId: 'DB-1', kind: 'fault', payload: '{}' }).returning('id').executeTakeFirstOrThrow();
    expect(typeof id).toBe('string');
  });

  it('keeps a query issued during a transaction out of that transaction', async () => {
    let releaseTransaction!: () => void;
    const held = new Promise<void>((resolve) => (releaseTransaction = resolve));
    let inserted!: () => void;
    const insertedInTransaction = new Promise<void>((resolve) => (inserted = resolve));
    const transaction = db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('apiTokens').values({ id: 'rolled-back', tokenHash: 'h-rolled-back', role: 'venue', name: 'x' }).execute();
        inserted();
        await held;
        throw new Error('roll back');
      })
      .catch(() => 'rolled back');
    await insertedInTransaction;
    // Issued while the transaction is open; must not join it (and so must survive its rollback).
    const outside = db.insertInto('apiTokens').values({ id: 'outside', tokenHash: 'h-outside', role: 'venue', name: 'y' }).execute();
    releaseTransaction();
    expect(await transaction).toBe('rolled back');
    await outside;
    const ids = (await db.selectFrom('apiTokens').select('id').where('id', 'in', ['rolled-back', 'outside']).execute()).map((r) => r.id);
    expect(ids).toEqual(['outside']);
  });

  it('reports a failed statement with PostgreSQL\'s code and constraint, and stays usable', async () => {
    const token = { id: 'twice', tokenHash: 'h-twice', role: 'venue', name: 'z' } as const;
    await db.insertInto('apiTokens').values(token).execute();
    const failure = await db.insertInto('apiTokens').values(token).execute().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ code: '23505', constraint: 'api_tokens_pkey' });
    expect(await db.selectFrom('apiTokens').select('id').where('id', '=', 'twice').execute()).toEqual([{ id: 'twice' }]);
  });

  it('keeps the event loop turning while a statement runs', async () => {
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 10);
    await sql`select pg_sleep(0.5)`.execute(db);
    clearInterval(ticking);
    // A statement run on the event loop (PGlite in process) would let one tick through at most.
    expect(ticks).toBeGreaterThanOrEqual(5);
  });
});

describe('PGlite on its own thread', () => {
  it('is analyzed and vacuumed as autovacuum would (PGlite has none): the planner learns a table grew, dead rows are reclaimed', async () => {
    const { db, dispose } = await openTestDatabase('pglite');
    try {
      const rowsKnown = async () => Number((await sql<{ reltuples: number }>`select reltuples from pg_class where relname = 'rejected_frames'`.execute(db)).rows[0]!.reltuples);
      await sql`insert into rejected_frames (charger_id, protocol, method, message_id, payload, reason, salvaged) select 'CP-' || n, 'ocpp1.6', 'Heartbeat', n::text, '{}', 'test', false from generate_series(1, 400) n`.execute(db);
      expect(await rowsKnown()).toBeLessThan(1); // never analyzed: the planner takes it for empty
      expect(await maintain(db)).toContainEqual({ table: 'rejected_frames', did: 'analyze' });
      expect(await rowsKnown()).toBe(400);
      expect(await maintain(db)).not.toContainEqual(expect.objectContaining({ table: 'rejected_frames' })); // nothing changed since

      await sql`delete from rejected_frames where charger_id <> 'CP-1'`.execute(db);
      expect(await maintain(db)).toContainEqual({ table: 'rejected_frames', did: 'vacuum analyze' });
      const { rows } = await sql<{ nDeadTup: string }>`select n_dead_tup from pg_stat_user_tables where relname = 'rejected_frames'`.execute(db);
      expect(Number(rows[0]!.nDeadTup)).toBe(0);
      expect(await rowsKnown()).toBe(1);
    } finally {
      await dispose();
    }
  });

  it('does not keep a process alive once its statements are answered', async () => {
    const script = `
      import { openDatabase } from './db/connect.ts';
      import { sql } from 'kysely';
      const db = openDatabase({ pgliteDir: null });
      const { rows } = await sql\`select 40 + 2 as answer\`.execute(db);
      console.log(rows[0].answer);
    `;
    const { stdout, code } = await runNode(['--import', 'tsx', '--input-type=module', '-e', script]);
    expect({ stdout: stdout.trim(), code }).toEqual({ stdout: '42', code: 0 });
  });
});

function runNode(args: string[]): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ stdout, code });
    });
  });
}
