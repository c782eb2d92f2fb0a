import { Worker } from 'node:worker_threads';
import {
  CompiledQuery,
  PGliteAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

type Started = { type: 'ready' } | { type: 'failed'; error: Record<string, unknown> & { message: string } };
type Reply = { id: number; rows: unknown[]; affectedRows?: number } | { id: number; error: Record<string, unknown> & { message: string } };

/**
 * PGlite, the embedded PostgreSQL, on a worker thread of its own. In process it runs each statement
 * synchronously on the event loop: every charger's answer waited for whatever statement ran, and
 * the database's CPU time was the gateway's. On its own thread the event loop only posts statements
 * and receives rows.
 *
 * PGlite is one connection: it is lent to one caller at a time (a transaction holds it from BEGIN
 * to COMMIT), the way Kysely's SQLite driver does.
 */
export class PGliteThreadDialect implements Dialect {
  constructor(private readonly dataDir: string | null) {}
  createAdapter = () => new PGliteAdapter();
  createDriver = (): Driver => new PGliteThreadDriver(this.dataDir);
  createIntrospector = (db: Kysely<unknown>) => new PostgresIntrospector(db);
  createQueryCompiler = () => new PostgresQueryCompiler();
}

class PGliteThreadDriver implements Driver {
  #thread: PGliteThread | undefined;
  #queue: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(private readonly dataDir: string | null) {}

  async init(): Promise<void> {
    this.#thread = await PGliteThread.start(this.dataDir);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#queue;
    let done!: () => void;
    this.#queue = new Promise<void>((resolve) => (done = resolve));
    await previous;
    this.#release = done;
    return this.#thread!;
  }

  async releaseConnection(): Promise<void> {
    const done = this.#release;
    this.#release = undefined;
    done?.();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await connection.executeQuery(CompiledQuery.raw(`begin${isolation}`));
  }

  commitTransaction = async (connection: DatabaseConnection) => void (await connection.executeQuery(CompiledQuery.raw('commit')));
  rollbackTransaction = async (connection: DatabaseConnection) => void (await connection.executeQuery(CompiledQuery.raw('rollback')));
  savepoint = async (connection: DatabaseConnection, name: string) => void (await connection.executeQuery(CompiledQuery.raw(`savepoint ${name}`)));
  rollbackToSavepoint = async (connection: DatabaseConnection, name: string) => void (await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint ${name}`)));
  releaseSavepoint = async (connection: DatabaseConnection, name: string) => void (await connection.executeQuery(CompiledQuery.raw(`release savepoint ${name}`)));

  async destroy(): Promise<void> {
    await this.#thread?.close();
    this.#thread = undefined;
  }
}

/** The worker and the statements waiting for its answers. */
class PGliteThread implements DatabaseConnection {
  #pending = new Map<number, { resolve(reply: Reply): void; reject(error: Error): void }>();
  #nextId = 1;
  #gone: Error | null = null;

  #started = deferred();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: Reply | Started) => {
      if ('type' in message) {
        if (message.type === 'ready') this.#started.resolve();
        else this.#started.reject(Object.assign(new Error(`PGlite did not start: ${message.error.message}`), message.error));
        return;
      }
      const waiting = this.#pending.get(message.id);
      if (!waiting) return;
      this.#pending.delete(message.id);
      // Idle, the thread must not keep the process alive; a statement in flight must.
      if (this.#pending.size === 0) worker.unref();
      waiting.resolve(message);
    });
    worker.on('error', (error) => this.#fail(new Error(`the database thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.#fail(new Error(`the database thread ended (exit code ${code})`)));
  }

  /** The thread gets none of this process's node options: it needs no loader, and some (e.g. `--input-type`) would stop it. */
  static async start(dataDir: string | null): Promise<PGliteThread> {
    const thread = new PGliteThread(new Worker(new URL('./pglite-worker.mjs', import.meta.url), { workerData: { dataDir }, execArgv: [] }));
    try {
      await thread.#started.promise;
    } catch (error) {
      await thread.worker.terminate();
      throw error;
    }
    thread.worker.unref();
    return thread;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#gone) throw this.#gone;
    const id = this.#nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) this.worker.ref();
      this.worker.postMessage({ id, sql: query.sql, parameters: query.parameters });
    });
    if ('error' in reply) {
      const { message, ...fields } = reply.error;
      throw Object.assign(new Error(message), fields);
    }
    return { rows: reply.rows as R[], numAffectedRows: reply.affectedRows == null ? undefined : BigInt(reply.affectedRows) };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite does not stream query results');
  }

  async close(): Promise<void> {
    if (this.#gone) return;
    this.worker.ref();
    const closed = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' });
    await closed;
  }

  #fail(error: Error) {
    this.#gone ??= error;
    this.#started.reject(error);
    for (const waiting of this.#pending.values()) waiting.reject(error);
    this.#pending.clear();
  }
}

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  // A thread that fails after it started has nobody waiting on this promise.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
