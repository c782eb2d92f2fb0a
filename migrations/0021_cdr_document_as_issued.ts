import { sql, type Kysely } from 'kysely';

/**
 * A CDR's OCPI document is kept as the text Concierge issued, byte for byte, not as jsonb: jsonb
 * took every document apart on the way in (each decimal parsed into a numeric, keys reordered,
 * `5.50` stated as `5.5`), and that was the largest part of storing a CDR — 113 µs a row for a
 * 2.4 KB document against 43 µs as json, inserted from SQL on PostgreSQL 15 here. Nothing queries
 * inside a document; its money is in columns. Where the server has lz4 (PostgreSQL, not PGlite),
 * documents are compressed with it rather than pglz, which costs more CPU on every insert.
 * Documents issued before this migration keep jsonb's rendering of what they held.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cdrs alter column document type text using document::text`.execute(db);
  await sql`
    do $$ begin
      if exists (select from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)) then
        alter table cdrs alter column document set compression lz4;
      end if;
    end $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cdrs alter column document type jsonb using document::jsonb`.execute(db);
}
