import { describe, expect, it } from 'vitest';
import { createGroupCommit } from '../../ocpp/group-commit.js';

/** The batching every gateway write path shares (meter values, status reports). */
describe('group commit', () => {
  it('writes what arrives together in one batch and answers each caller once its batch is stored', async () => {
    const batches: number[][] = [];
    const stored = new Set<number>();
    const commit = createGroupCommit(
      async (items: number[]) => {
        batches.push(items);
        await new Promise((resolve) => setTimeout(resolve, 5));
        items.forEach((i) => stored.add(i));
      },
      { fullBatch: 100, gapMs: 10 },
    );
    const answered = await Promise.all([1, 2, 3].map((i) => commit.add(i).then(() => stored.has(i))));
    expect(answered).toEqual([true, true, true]);
    expect(batches).toEqual([[1, 2, 3]]);

    // After a quiet spell a lone item goes at once; what arrives while it is written goes in the next batch, in order.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const first = commit.add(4);
    await new Promise((resolve) => setImmediate(resolve));
    const more = [5, 6].map((i) => commit.add(i));
    await Promise.all([first, ...more]);
    expect(batches.slice(1)).toEqual([[4], [5, 6]]);
  });

  it('writes a failed batch again item by item: the item the database refuses fails alone', async () => {
    const attempts: number[][] = [];
    const commit = createGroupCommit(
      async (items: number[]) => {
        attempts.push(items);
        if (items.includes(13)) throw new Error('integer out of range');
      },
      { fullBatch: 100, gapMs: 10 },
    );
    const outcomes = await Promise.allSettled([11, 12, 13, 14].map((i) => commit.add(i)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ message: 'integer out of range' });
    expect(attempts).toEqual([[11, 12, 13, 14], [11], [12], [13], [14]]);
    // The next batch is written as usual.
    await commit.add(15);
    expect(attempts.at(-1)).toEqual([15]);
  });

  it('gives each caller what the write returned for its item, in a batch and item by item', async () => {
    const commit = createGroupCommit(
      async (items: number[]) => {
        if (items.includes(-1)) throw new Error('negative');
        return items.map((i) => i * 10);
      },
      { fullBatch: 100, gapMs: 10 },
    );
    expect(await Promise.all([1, 2, 3].map((i) => commit.add(i)))).toEqual([10, 20, 30]);
    const outcomes = await Promise.allSettled([4, -1, 5].map((i) => commit.add(i)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 40 },
      { status: 'rejected', reason: expect.objectContaining({ message: 'negative' }) },
      { status: 'fulfilled', value: 50 },
    ]);
  });
});
