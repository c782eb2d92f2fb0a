import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedCharger } from './charger.js';
import { newCounters, type SimulatorCounters } from './counters.js';
import { SIMULATOR_DEFAULTS, type SimulatorOptions } from './options.js';
import { chargerIds } from './registration.js';

/**
 * Simulated chargers for demos and benchmarks. Each one speaks OCPP-J through ocpp-rpc's RPCClient
 * in strict mode, so every payload it sends or answers is checked against the official schemas
 * before it leaves: a simulator bug shows up as a counted error, never as a message the gateway
 * has to tolerate.
 */

export { SimulatedCharger } from './charger.js';
export { formatProgress, newCounters, type ActionCounters, type SimulatorCounters } from './counters.js';
export { SIMULATED_PROTOCOLS, SIMULATOR_DEFAULTS, type SimulatedProtocol, type SimulatorOptions } from './options.js';
export { chargerIds, httpBaseOf, registerChargers } from './registration.js';

export interface Simulation {
  counters: SimulatorCounters;
  chargers: SimulatedCharger[];
  /** Resolves when every charger has made its first connection attempt (and booted, if it connected). */
  started: Promise<void>;
  /** Periodic traffic, sessions and faults off (sockets stay open, server commands are still answered), or on again. */
  pause(): void;
  resume(): void;
  /** Ends sessions' timers, waits for calls in flight, closes every socket. */
  stop(): Promise<void>;
}

/** Starts `chargers` simulated chargers, spread over time; returns at once. */
export function startSimulation(input: Partial<SimulatorOptions> & Pick<SimulatorOptions, 'url' | 'chargers'>): Simulation {
  const options: SimulatorOptions = { ...SIMULATOR_DEFAULTS, ...input };
  const counters = newCounters();
  const ids = chargerIds(options.idPrefix, options.chargers, options.firstNumber);
  const chargers = ids.map((id) => new SimulatedCharger(id, options, counters));
  let stopping = false;

  const started = (async () => {
    const gap = 1000 / options.connectRatePerSecond;
    const begin = Date.now();
    const connecting = new Set<Promise<void>>();
    for (const [index, charger] of chargers.entries()) {
      if (stopping) break;
      const due = begin + index * gap;
      if (due > Date.now()) await sleep(due - Date.now());
      while (connecting.size >= options.maxConnecting) await Promise.race(connecting);
      if (stopping) break;
      const attempt = charger.start().finally(() => connecting.delete(attempt));
      connecting.add(attempt);
    }
    await Promise.all(connecting);
  })();

  return {
    counters,
    chargers,
    started,
    pause: () => chargers.forEach((c) => c.pause()),
    resume: () => chargers.forEach((c) => c.resume()),
    async stop() {
      stopping = true;
      await started;
      await Promise.all(chargers.map((c) => c.stop()));
    },
  };
}
