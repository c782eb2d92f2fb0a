export interface GroupCommitOptions {
  /** A batch this size goes at once. */
  fullBatch: number;
  /** A smaller one waits this long after the previous batch ended. */
  gapMs: number;
}

/** What every gateway writer uses. */
const DEFAULTS: GroupCommitOptions = { fullBatch: 250, gapMs: 10 };

/**
 * Group commit: many chargers' messages written in one go. Each caller adds its item and waits
 * until the batch that holds it is stored, so a charger's answer still means "stored", but a busy
 * gateway writes hundreds of messages per statement instead of a transaction each.
 *
 * When the next batch goes: at once after a quiet spell (a lone message is not held back), at once
 * when a full batch waits, otherwise no sooner than `gapMs` after the previous one ended. Flushing
 * again the moment the last statement returned wrote batches of one or two messages under a
 * steady load, and on PGlite every statement costs a few hundred microseconds of the database
 * thread, which then had no time left for anything else.
 *
 * A batch that fails is written again item by item, so a message the database refuses fails alone
 * and the other chargers' messages of its batch are stored. `write` must therefore be safe to
 * repeat for items it may already have stored. What `write` returns for each item (in the items'
 * order) is what that item's caller gets.
 */
export function createGroupCommit<T, R = void>(write: (items: T[]) => Promise<R[] | void>, { fullBatch, gapMs }: GroupCommitOptions = DEFAULTS) {
  interface Pending {
    item: T;
    resolve(result: R): void;
    reject(error: unknown): void;
  }
  let queue: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let lastFlushEnded = 0;
  let timer: NodeJS.Timeout | null = null;
  let immediate = false;

  function schedule() {
    if (flushing || immediate || queue.length === 0) return;
    const wait = queue.length >= fullBatch ? 0 : lastFlushEnded + gapMs - Date.now();
    if (wait > 0) {
      timer ??= setTimeout(drain, wait);
      return;
    }
    // Collect what arrives in this turn of the event loop.
    immediate = true;
    setImmediate(() => {
      immediate = false;
      drain();
    });
  }

  function drain() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (flushing || queue.length === 0) return;
    const batch = queue;
    queue = [];
    flushing = write(batch.map((p) => p.item)).then(
      (results) => batch.forEach((p, i) => p.resolve(results?.[i] as R)),
      async (error: unknown) => {
        if (batch.length === 1) return batch[0]!.reject(error);
        for (const p of batch) await write([p.item]).then((results) => p.resolve(results?.[0] as R), p.reject);
      },
    );
    void flushing.then(() => {
      flushing = null;
      lastFlushEnded = Date.now();
      schedule();
    });
  }

  return {
    /** Resolves once the item is stored, with what `write` returned for it; rejects with the database's error if it could not be. */
    add(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
  };
}
