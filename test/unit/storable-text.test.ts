import { describe, expect, it } from 'vitest';
import { allStorable, storableCopy, storableText, unstorableCharacter, unstorableStrings } from '../../contracts/storable-text.js';

describe('what text the database can store', () => {
  it('names NUL and unpaired surrogates, and passes a surrogate pair (U+1F50C) as the one character it is', () => {
    expect(unstorableCharacter('a\u0000b')).toBe('U+0000');
    expect(unstorableCharacter('x\uD800')).toBe('U+D800');
    expect(unstorableCharacter('\uDC00x')).toBe('U+DC00');
    expect(unstorableCharacter('plug \uD83D\uDD0C')).toBeNull();
    expect(unstorableCharacter('Kitzbühel ✓')).toBeNull();
  });

  it('finds every such string and key in a JSON value by its path', () => {
    expect(unstorableStrings({ a: ['ok', 'b\u0000'], ['k\uD800']: 1, c: { d: 'fine' } })).toEqual([
      { path: ['a', '1'], character: 'U+0000' },
      { path: ['k\uD800'], character: 'U+D800' },
    ]);
  });

  it('replaces them with U+FFFD in strings and keys, and leaves a value without any untouched (the same object)', () => {
    expect(storableText('a\u0000b\uD800c\uD83D\uDD0C')).toBe('a\uFFFDb\uFFFDc\uD83D\uDD0C');
    expect(storableCopy({ info: 'x\u0000', list: ['\uDC00'], ['k\u0000']: true, n: 3, z: null })).toEqual({ info: 'x\uFFFD', list: ['\uFFFD'], ['k\uFFFD']: true, n: 3, z: null });
    const clean = { info: 'GroundFailure', values: [1, 'two', { three: true }] };
    expect(allStorable(clean)).toBe(true);
    expect(storableCopy(clean)).toBe(clean);
  });
});
