/**
 * What text PostgreSQL can store. Its `text` and `jsonb` refuse U+0000 (NUL) and UTF-16 surrogates
 * that are not part of a pair (SQLSTATE 22021 / 22P05), on every retry. Text from outside is
 * checked against this rule at the boundary: the API refuses it naming the field, a charger's
 * report is kept with each such character replaced by U+FFFD, the replacement character.
 */
import { z } from 'zod';

/**
 * The failure type of an activity whose data the database refused for good (SQLSTATE class 22, a
 * data exception, or 23, an integrity constraint): retrying it can never succeed, so it is not retried.
 */
export const DATABASE_REFUSED = 'DatabaseRefused';

/** NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this rule is about
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');
export const REPLACEMENT_CHARACTER = '\uFFFD';

/** The first character of `text` the database cannot store, named as U+XXXX; null when it can store all of it. */
export function unstorableCharacter(text: string): string | null {
  const found = UNSTORABLE.exec(text);
  return found ? `U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : null;
}

/** Every string (and object key) inside a JSON-like value that the database cannot store, by path. */
export function unstorableStrings(value: unknown, path: string[] = []): Array<{ path: string[]; character: string }> {
  if (typeof value === 'string') {
    const character = unstorableCharacter(value);
    return character ? [{ path, character }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => unstorableStrings(item, [...path, String(i)]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => {
      const character = unstorableCharacter(key);
      return [...(character ? [{ path: [...path, key], character }] : []), ...unstorableStrings(item, [...path, key])];
    });
  }
  return [];
}

/** A NUL or any surrogate might be unstorable (the full rule decides): a cheap test first, as nearly no text has one. */
const SURROGATE = /[\uD800-\uDFFF]/;
const storableString = (text: string) => (!text.includes('\u0000') && !SURROGATE.test(text)) || !UNSTORABLE.test(text);

/**
 * Whether the database can store every string and key of a JSON-like value as it is: the usual
 * case, told without copying (a gateway asks this of every message a charger sends).
 */
export function allStorable(value: unknown): boolean {
  if (typeof value === 'string') return storableString(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(allStorable);
  for (const key in value) if (!storableString(key) || !allStorable((value as Record<string, unknown>)[key])) return false;
  return true;
}

/** `text` with every character the database cannot store replaced by U+FFFD. */
export function storableText(text: string): string {
  return storableString(text) ? text : text.replace(UNSTORABLE_ALL, REPLACEMENT_CHARACTER);
}

/** A JSON-like value whose strings and keys the database can all store: the value itself when it already can, else a copy with U+FFFD in their place. */
export function storableCopy<T>(value: T): T {
  return allStorable(value) ? value : copyStorable(value);
}

function copyStorable<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map(copyStorable) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), copyStorable(item)])) as T;
  }
  return value;
}

// eslint-disable-next-line no-control-regex -- U+0000 is exactly what the pattern states
export const WITHOUT_NUL = /^[^\u0000]*$/;

/**
 * Free text a person or client sends: anything the database can store. Schemas state the NUL rule
 * as a pattern (the API document shows it); lone surrogates, which no pattern can state, are
 * refused by the API's check after validation (api/problem.ts) and replaced in what chargers send.
 */
export const text = () => z.string().regex(WITHOUT_NUL, 'may not contain U+0000 (NUL): it cannot be stored');
