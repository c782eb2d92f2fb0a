// PGlite on its own thread (see pglite-thread.ts): runs the statements the main thread posts, one
// at a time, in the order they arrive. Plain JavaScript: worker threads load it without a loader.
import process from 'node:process';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';

/** What survives the trip back of a failed statement: PostgreSQL's fields (code, detail, constraint…). */
function describe(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields = Object.entries(error).filter(([key, value]) => key !== 'params' && (value === null || typeof value !== 'object'));
  return { ...Object.fromEntries(fields), name: error.name, message: error.message };
}

let pglite;
try {
  // bigint ids come back as strings, as they do from pg.
  pglite = new PGlite({ ...(workerData.dataDir ? { dataDir: workerData.dataDir } : {}), parsers: { [types.INT8]: (value) => value } });
  await pglite.waitReady;
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  parentPort.postMessage({ type: 'failed', error: describe(error) });
}

parentPort.on('message', async (request) => {
  if (request.type === 'close') {
    await pglite.close().catch(() => undefined);
    process.exit(0); // in a worker thread: ends this thread only
    return;
  }
  try {
    const { rows, affectedRows } = await pglite.query(request.sql, request.parameters, { rowMode: 'object' });
    parentPort.postMessage({ id: request.id, rows, affectedRows });
  } catch (error) {
    parentPort.postMessage({ id: request.id, error: describe(error) });
  }
});
