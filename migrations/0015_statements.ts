import { sql, type Kysely } from 'kysely';

/**
 * Monthly statements and the notes that revise them. A statement is never changed (a trigger
 * refuses it): re-settling a month whose inputs changed issues revision n+1 and a credit or debit
 * note for the difference. Numbers run without gaps per issuing party and year (`statement_numbers`,
 * taken in the same transaction as the statement). What happens to a statement afterwards —
 * approval, sending — is recorded in `statement_events`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('statement_numbers')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('last', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('statement_numbers_pk', ['issuer', 'year'])
    .execute();
  await db.schema
    .createTable('statements')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('statement', 'credit-note', 'debit-note')`))
    .addColumn('agreement_id', 'text', (c) => c.notNull())
    .addColumn('agreement_version', 'integer', (c) => c.notNull())
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('references_id', 'text', (c) => c.references('statements.id'))
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('period_start', 'timestamptz', (c) => c.notNull())
    .addColumn('period_end', 'timestamptz', (c) => c.notNull())
    // A calendar date as text (yyyy-mm-dd): drivers turn SQL dates into local-midnight instants.
    .addColumn('issued_on', 'text', (c) => c.notNull().check(sql`issued_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'`))
    .addColumn('inputs_hash', 'text', (c) => c.notNull())
    // What the venue owes the operator (negative: the operator owes the venue).
    .addColumn('due', 'numeric', (c) => c.notNull())
    .addColumn('content', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('statements_number_uq', ['issuer', 'year', 'seq'])
    .addUniqueConstraint('statements_revision_uq', ['agreement_id', 'month', 'revision', 'kind'])
    .execute();
  await sql`
    create function statements_are_never_changed() returns trigger language plpgsql as $$
    begin
      raise exception 'a statement is never changed or deleted (%): settle the month again for a revision and a note', old.id using errcode = '23000';
    end $$
  `.execute(db);
  await sql`create trigger statements_never_changed before update or delete on statements for each row execute function statements_are_never_changed()`.execute(db);
  await db.schema
    .createTable('statement_events')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('statement_id', 'text', (c) => c.notNull().references('statements.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('detail', 'jsonb')
    .execute();
  await db.schema.createIndex('statement_events_statement_idx').on('statement_events').columns(['statement_id', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('statement_events').execute();
  await db.schema.dropTable('statements').execute();
  await sql`drop function statements_are_never_changed()`.execute(db);
  await db.schema.dropTable('statement_numbers').execute();
}
