import { CHARGER_ID } from '../contracts/agreement.js';

/** Charger ids: prefix + number, zero-padded to at least 5 digits (SIM-00001). */
export function chargerIds(prefix: string, count: number, first = 1): string[] {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${String(first + i).padStart(5, '0')}`);
  const invalid = ids.find((id) => !CHARGER_ID.pattern.test(id));
  if (invalid) throw new Error(`charger id "${invalid}" is not valid: ids are ${CHARGER_ID.rule} (check --id-prefix)`);
  return ids;
}

/** The HTTP base of a gateway from its OCPP URL: ws://host:8080/ocpp → http://host:8080. */
export function httpBaseOf(ocppUrl: string): string {
  const url = new URL(ocppUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/ocpp$/, '');
  return url.toString().replace(/\/+$/, '');
}

/**
 * Registers chargers with `POST /api/chargers` (409 = already registered, which is fine). Runs a
 * few requests at a time: the server hashes each password with scrypt.
 */
export async function registerChargers(
  httpBase: string,
  token: string,
  ids: readonly string[],
  password: string,
  onProgress: (done: number) => void = () => undefined,
  concurrency = 8,
): Promise<{ created: number; existing: number }> {
  let next = 0;
  let created = 0;
  let existing = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const response = await fetch(`${httpBase}/api/chargers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, password }),
      });
      if (response.status === 201) created++;
      else if (response.status === 409) existing++;
      else throw new Error(`registering ${id}: POST ${httpBase}/api/chargers answered ${response.status} ${await response.text()}`);
      onProgress(created + existing);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return { created, existing };
}
