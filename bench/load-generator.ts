import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulation, type SimulatedCharger, type Simulation } from '../simulator/index.js';
import { cpuMs, serveParent, tellParent, type CallTally, type GeneratorReply, type GeneratorRequest, type MeasuredAction, type StatusReportResult } from './ipc.js';

/**
 * One load-generator process: a share of the simulated chargers (a process may hold about 19,900
 * sockets here), driven phase by phase by bench/gateway.ts.
 */
let simulation: Simulation | null = null;
/** Round-trip times of the periodic traffic, recorded only while a hold phase runs. */
let holdLatencies: number[] | null = null;

const running = () => {
  if (!simulation) throw new Error('no chargers yet: send "start" first');
  return simulation;
};

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

/** The counters now; starts a new event-loop delay measurement. */
const tally = (): CallTally => {
  const { sent, answered, errors, lastError } = running().counters;
  loopDelay.reset();
  return { sent, answered, errors, lastError, loopDelayP99Ms: 0, cpuMs: cpuMs() };
};

const since = (before: CallTally): CallTally => {
  const now = running().counters;
  return {
    sent: now.sent - before.sent,
    answered: now.answered - before.answered,
    errors: now.errors - before.errors,
    lastError: now.lastError,
    loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
    cpuMs: cpuMs() - before.cpuMs,
  };
};

const send = (charger: SimulatedCharger, action: MeasuredAction) => (action === 'MeterValues' ? charger.meterValues(1) : charger.heartbeat());

// The benchmark stops this process; a Ctrl-C meant for the benchmark must not cut it short.
process.on('SIGINT', () => undefined);

serveParent<GeneratorRequest, GeneratorReply>(async (request) => {
  switch (request.type) {
    case 'start': {
      const begin = Date.now();
      simulation = startSimulation({
        url: request.url,
        chargers: request.chargers,
        protocol: request.protocol,
        password: request.password,
        idPrefix: request.idPrefix,
        firstNumber: request.firstNumber,
        connectors: request.connectors ?? 1,
        heartbeatIntervalMs: request.intervalMs,
        meterIntervalMs: request.intervalMs,
        sessionsPerHour: request.sessionsPerHour,
        faultRatePerHour: request.faultRatePerHour,
        connectRatePerSecond: request.connectRatePerSecond,
        maxConnecting: request.maxConnecting,
        // The generator's CPU is load: no timer per call, and no schema check of our own payloads (the
        // server checks every one in strict mode; the simulator's tests check them on the client side).
        callTimeoutMs: 0,
        strictMode: false,
        startPaused: true,
        onCall: (_action, ms) => holdLatencies?.push(Math.round(ms * 100) / 100),
      });
      await simulation.started;
      const { connected, booted, connectFailures, lastError } = simulation.counters;
      return { type: 'started', connected, booted, connectFailures, elapsedMs: Date.now() - begin, lastError };
    }

    case 'hold': {
      const before = tally();
      holdLatencies = [];
      running().resume();
      await sleep(request.durationMs);
      running().pause();
      await sleep(2_000); // calls still in flight finish and are counted
      const latenciesMs = holdLatencies;
      holdLatencies = null;
      return { type: 'held', latenciesMs, connected: running().counters.connected, ...since(before) };
    }

    case 'pause':
      running().pause();
      return { type: 'paused' };

    case 'saturate': {
      const chargers = spread(running().chargers, request.inFlight);
      const before = tally();
      const windowStart = Date.now() + request.warmupMs;
      const windowEnd = windowStart + request.durationMs;
      let answered = 0;
      let errors = 0;
      await Promise.all(
        chargers.map(async (charger) => {
          while (Date.now() < windowEnd) {
            const ok = await send(charger, request.action).then(
              () => true,
              () => false,
            );
            const at = Date.now();
            if (at < windowStart || at > windowEnd) continue;
            if (ok) answered++;
            else errors++;
          }
        }),
      );
      const { lastError, sent, loopDelayP99Ms, cpuMs: phaseCpuMs } = since(before);
      return { type: 'saturated', windowMs: request.durationMs, sent, answered, errors, lastError, loopDelayP99Ms, cpuMs: phaseCpuMs };
    }

    case 'steady': {
      const chargers = running().chargers;
      const before = tally();
      const latenciesMs: number[] = [];
      const begin = Date.now();
      const windowStart = begin + request.warmupMs;
      const end = windowStart + request.durationMs;
      let issued = 0;
      let answered = 0;
      let errors = 0;
      const outstanding = new Set<Promise<void>>();
      while (Date.now() < end) {
        const due = Math.floor(((Date.now() - begin) * request.ratePerSecond) / 1000);
        for (; issued < due; issued++) {
          const charger = chargers[issued % chargers.length]!;
          const measured = Date.now() >= windowStart;
          const t0 = performance.now();
          const call: Promise<void> = send(charger, request.action).then(
            () => {
              if (!measured) return;
              answered++;
              latenciesMs.push(Math.round((performance.now() - t0) * 100) / 100);
            },
            () => {
              if (measured) errors++;
            },
          );
          outstanding.add(call);
          void call.finally(() => outstanding.delete(call));
        }
        await sleep(2);
      }
      await Promise.all(outstanding);
      const { lastError, sent, loopDelayP99Ms, cpuMs: phaseCpuMs } = since(before);
      return { type: 'steadied', windowMs: request.durationMs, latenciesMs, sent, answered, errors, lastError, loopDelayP99Ms, cpuMs: phaseCpuMs };
    }

    case 'report-statuses': {
      const byId = new Map(running().chargers.map((c) => [c.id, c]));
      const before = cpuMs();
      const results: StatusReportResult[] = request.reports.map(() => ({ sentAt: 0, answeredAt: null, error: null }));
      const reportsOf = new Map<SimulatedCharger, number[]>();
      request.reports.forEach((report, index) => {
        const charger = byId.get(report.chargerId);
        if (!charger) throw new Error(`${report.chargerId} is not one of this generator's chargers`);
        reportsOf.set(charger, [...(reportsOf.get(charger) ?? []), index]);
      });
      await Promise.all(
        [...reportsOf].map(async ([charger, indexes]) => {
          for (const index of indexes.sort((a, b) => request.reports[a]!.at - request.reports[b]!.at)) {
            const { connectorId, status, errorCode, at } = request.reports[index]!;
            if (at > Date.now()) await sleep(at - Date.now());
            const result = results[index]!;
            result.sentAt = Date.now();
            const payload = { connectorId, status, errorCode, timestamp: new Date(result.sentAt).toISOString(), ...(status === 'Faulted' ? { info: 'fault storm' } : {}) };
            await charger.client.call('StatusNotification', payload).then(
              () => (result.answeredAt = Date.now()),
              (error: unknown) => (result.error = `${charger.id}: ${error instanceof Error ? error.message : String(error)}`),
            );
          }
        }),
      );
      return { type: 'statuses-reported', results, cpuMs: cpuMs() - before };
    }

    case 'stop':
      await simulation?.stop();
      tellParent({ type: 'stopped' });
      process.exit(0);
  }
});

/** `count` chargers spread evenly over the list. */
function spread<T>(items: readonly T[], count: number): T[] {
  const n = Math.min(count, items.length);
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}
