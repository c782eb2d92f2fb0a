import { setTimeout as sleep } from 'node:timers/promises';
import { latency, type Latency } from './harness.js';

/**
 * Concierge's API as the fault storm reads it: `GET /api/incidents` with an admin token, polled to
 * see when each expected incident becomes visible, and per charger to check that each connector
 * has exactly one.
 */

export interface Api {
  /** http://127.0.0.1:<port> */
  base: string;
  token: string;
}

/** The fields of the API's incident that the storm reads. */
export interface IncidentView {
  id: string;
  chargerId: string;
  connectorId: number;
  status: string;
  faults: Array<{ status: string; errorCode: string; at: string }>;
}

/** `charger:connector`, the key the storm counts incidents by (the workflow id is `incident:<charger>:<connector>`). */
export const connectorKey = (chargerId: string, connectorId: number) => `${chargerId}:${connectorId}`;

export async function listIncidents(api: Api, query: Record<string, string | number>): Promise<IncidentView[]> {
  const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  const response = await fetch(`${api.base}/api/incidents?${search}`, { headers: { authorization: `Bearer ${api.token}` } });
  if (!response.ok) throw new Error(`GET /api/incidents?${search} answered ${response.status} ${await response.text()}`);
  return ((await response.json()) as { incidents: IncidentView[] }).incidents;
}

/** Every incident of each charger (open or closed), a few requests at a time. */
export async function incidentsByCharger(api: Api, chargerIds: readonly string[], concurrency = 8): Promise<Map<string, IncidentView[]>> {
  const found = new Map<string, IncidentView[]>();
  let next = 0;
  const worker = async () => {
    while (next < chargerIds.length) {
      const chargerId = chargerIds[next++]!;
      found.set(chargerId, await listIncidents(api, { chargerId, limit: 500 }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chargerIds.length) }, worker));
  return found;
}

export interface WatchOptions {
  /** The connectors whose incidents are awaited (`connectorKey`), each with the moment its fault is due to be sent (epoch ms). */
  due: Map<string, number>;
  /** One list call per poll, newest first, this many incidents (the API's most is 500). */
  limit: number;
  intervalMs: number;
  /** Stop waiting then (epoch ms), seen or not. */
  deadline: number;
}

export interface Watched {
  /** When each expected incident was first seen: the moment the answer that held it arrived (epoch ms). */
  firstSeen: Map<string, number>;
  polls: number;
  /** How long each list call took. */
  pollLatency: Latency;
  /** Incidents found by asking per charger (the list call's page could not show them), and how many such calls were made. */
  lookedUp: number;
  lookupCalls: number;
}

/** The list stayed quiet this long with incidents still missing: ask for some of those per charger. */
const QUIET_MS = 2_000;
const LOOKUPS_PER_QUIET = 50;

/**
 * Polls `GET /api/incidents?open=true&limit=<limit>` (newest first) until every expected incident
 * has been seen. The page shows only the newest, so an incident that became visible only after
 * `limit` newer ones could stay off it: while the page is full and the list has been quiet with
 * some still missing, the oldest missing ones whose faults are due are asked for per charger
 * (`?chargerId=`, a few at a time), so none is overlooked. A time found that way can only be later
 * than the truth.
 */
export async function watchIncidents(api: Api, options: WatchOptions): Promise<Watched> {
  const { due, limit, intervalMs, deadline } = options;
  const firstSeen = new Map<string, number>();
  const pollMs: number[] = [];
  let lookedUp = 0;
  let lookupCalls = 0;
  let lastNewAt = Date.now();
  const oldestMissing = () =>
    [...due]
      .filter(([key, at]) => !firstSeen.has(key) && at < Date.now())
      .sort((a, b) => a[1] - b[1])
      .slice(0, LOOKUPS_PER_QUIET)
      .map(([key]) => key);

  while (firstSeen.size < due.size && Date.now() < deadline) {
    const began = Date.now();
    const page = await listIncidents(api, { open: 'true', limit });
    const at = Date.now();
    pollMs.push(at - began);
    for (const incident of page) {
      const key = connectorKey(incident.chargerId, incident.connectorId);
      if (due.has(key) && !firstSeen.has(key)) {
        firstSeen.set(key, at);
        lastNewAt = at;
      }
    }
    if (page.length === limit && at - lastNewAt > QUIET_MS) {
      const keys = new Set(oldestMissing());
      const chargers = [...new Set([...keys].map((key) => key.slice(0, key.lastIndexOf(':'))))];
      lookupCalls += chargers.length;
      const found = await incidentsByCharger(api, chargers);
      const foundAt = Date.now();
      for (const incident of [...found.values()].flat()) {
        const key = connectorKey(incident.chargerId, incident.connectorId);
        if (keys.has(key) && !firstSeen.has(key)) {
          firstSeen.set(key, foundAt);
          lookedUp++;
        }
      }
      lastNewAt = Date.now();
    }
    await sleep(Math.max(0, began + intervalMs - Date.now()));
  }
  return { firstSeen, polls: pollMs.length, pollLatency: latency(pollMs), lookedUp, lookupCalls };
}
