export interface ActionCounters {
  sent: number;
  answered: number;
  errors: number;
}

/** What the simulated chargers did; `sent` = `answered` + `errors` once every call has finished. */
export interface SimulatorCounters {
  /** Sockets open now. */
  connected: number;
  /** Chargers whose BootNotification was accepted on their current socket. */
  booted: number;
  /** Calls the chargers made, answered with a result, and failed (CALLERROR, timeout, dropped socket, or refused by our own schema check). */
  sent: number;
  answered: number;
  errors: number;
  /** Connection attempts refused or failed (e.g. 401 for an unregistered charger). */
  connectFailures: number;
  /** Faults reported (Faulted status answered by the server) and cleared again. */
  faults: number;
  cleared: number;
  /** Sessions started (StartTransaction / TransactionEvent Started answered). */
  sessions: number;
  /** Server commands answered (Reset, ChangeAvailability, TriggerMessage, ...). */
  commands: number;
  byAction: Record<string, ActionCounters>;
  lastError: string | null;
}

export function newCounters(): SimulatorCounters {
  return { connected: 0, booted: 0, sent: 0, answered: 0, errors: 0, connectFailures: 0, faults: 0, cleared: 0, sessions: 0, commands: 0, byAction: {}, lastError: null };
}

/** Formats the counters as one progress line. */
export function formatProgress(counters: SimulatorCounters, total: number): string {
  const parts = [
    `connected ${counters.connected}/${total}`,
    `booted ${counters.booted}`,
    `sent ${counters.sent}`,
    `answered ${counters.answered}`,
    `errors ${counters.errors}`,
    `faults ${counters.faults} (cleared ${counters.cleared})`,
    `sessions ${counters.sessions}`,
    `commands ${counters.commands}`,
  ];
  if (counters.connectFailures > 0) parts.push(`refused ${counters.connectFailures}`);
  if (counters.lastError) parts.push(`last error: ${counters.lastError}`);
  return parts.join(' · ');
}
