import { existsSync } from 'node:fs';

/** Where Debian's Chromium is looked for (CHROMIUM_PATH first): never a downloaded browser. */
export const CHROMIUM_CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].filter((p): p is string => !!p);

/** The first Chromium binary that exists, or null. */
export function findChromium(): string | null {
  return CHROMIUM_CANDIDATES.find((candidate) => existsSync(candidate)) ?? null;
}
