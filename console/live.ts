import type { Db } from '../db/connect.js';
import type { Logger } from '../platform/log.js';

/** How often the incidents table is looked at while someone watches. */
const POLL_MS = 500;

/**
 * Tells the open boards that incidents changed. It reads the incidents table (how many, the newest
 * change), so a change made by any process — the worker that opened an incident, another API
 * process — reaches every board, and it polls only while a board is open. Boards then fetch their
 * own rows, within their own scope: the feed itself carries no data.
 */
export function createIncidentFeed(db: Db, log: Logger) {
  const listeners = new Set<() => void>();
  let timer: NodeJS.Timeout | null = null;
  let last: string | null = null;
  let closed = false;

  async function look() {
    try {
      const row = await db
        .selectFrom('incidents')
        .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.max('updatedAt').as('latest')])
        .executeTakeFirst();
      const signature = `${row?.count ?? 0}:${row?.latest ? new Date(row.latest).getTime() : 0}`;
      if (last !== null && signature !== last) for (const listener of listeners) listener();
      last = signature;
    } catch (error) {
      log.warn({ err: error }, 'the console could not look for incident changes');
    }
  }

  return {
    /** Calls `listener` after each change from now on; returns how to stop. */
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      if (!timer) {
        void look();
        timer = setInterval(() => void look(), POLL_MS);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer) {
          clearInterval(timer);
          timer = null;
          last = null;
        }
      };
    },
    /** The process is stopping: every stream is woken to end (an open stream would hold the HTTP server's close). */
    close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = null;
      for (const listener of [...listeners]) listener();
      listeners.clear();
    },
    get closed() {
      return closed;
    },
    /** What the incidents looked like at the last look (null while no board watches): changes when any incident does. */
    get signature() {
      return timer ? last : null;
    },
  };
}

export type IncidentFeed = ReturnType<typeof createIncidentFeed>;
