import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RPCClient, type IHandlersOption } from 'ocpp-rpc';
import { CHARGER_ID } from '../contracts/agreement.js';

/**
 * Simulated chargers for demos and benchmarks. Each one speaks OCPP-J through ocpp-rpc's RPCClient
 * in strict mode, so every payload it sends or answers is checked against the official schemas
 * before it leaves: a simulator bug shows up as a counted error, never as a message the gateway
 * has to tolerate.
 */

export type SimulatedProtocol = '1.6' | '2.0.1';
export const SIMULATED_PROTOCOLS: readonly SimulatedProtocol[] = ['1.6', '2.0.1'];

export interface SimulatorOptions {
  /** The gateway's OCPP endpoint, e.g. ws://localhost:8080/ocpp; a charger connects to `${url}/${id}`. */
  url: string;
  chargers: number;
  protocol: SimulatedProtocol;
  /** Faults per charger per hour, as a Poisson process (0 = none): 1 means each charger faults about once an hour. */
  faultRatePerHour: number;
  /** How long a fault lasts before it is cleared, drawn uniformly from this range. */
  faultDurationMs: [number, number];
  /** Charging sessions per charger per hour, as a Poisson process (0 = none). */
  sessionsPerHour: number;
  sessionDurationMs: [number, number];
  /** The Basic-auth password every simulated charger uses (16–40 characters). */
  password: string;
  idPrefix: string;
  /** Number of the first charger (ids are prefix + zero-padded number). */
  firstNumber: number;
  /** Connectors (1.6) or EVSEs with one connector each (2.0.1) per charger. */
  connectors: number;
  heartbeatIntervalMs: number;
  /** One MeterValues per connector this often (2.0.1: a TransactionEvent Updated for a connector in a session). */
  meterIntervalMs: number;
  /** Start-up spread: chargers begin connecting at this rate, so thousands do not stampede. */
  connectRatePerSecond: number;
  /** At most this many chargers are in their first connection and boot at once. */
  maxConnecting: number;
  /** How long a call may wait for its answer; 0 = forever (saves a timer per call: load generators use it). */
  callTimeoutMs: number;
  /**
   * Check every payload sent and received against the official schemas (ocpp-rpc strict mode). On
   * by default; a load generator may turn it off to spend its CPU on load (the server still checks).
   */
  strictMode: boolean;
  /** WebSocket pings from the charger (the server pings too); 0 = none. */
  pingIntervalMs: number;
  /** Start with periodic traffic, sessions and faults paused (benchmarks drive the load themselves). */
  startPaused: boolean;
  random: () => number;
  /** Called for every finished call the chargers make, with its round-trip time. */
  onCall?: (action: string, durationMs: number, ok: boolean) => void;
}

export const SIMULATOR_DEFAULTS = {
  protocol: '1.6',
  faultRatePerHour: 1,
  faultDurationMs: [30_000, 300_000],
  sessionsPerHour: 2,
  sessionDurationMs: [60_000, 600_000],
  password: 'simulated-charger-secret',
  idPrefix: 'SIM-',
  firstNumber: 1,
  connectors: 2,
  heartbeatIntervalMs: 10_000,
  meterIntervalMs: 10_000,
  connectRatePerSecond: 50,
  maxConnecting: 200,
  callTimeoutMs: 30_000,
  strictMode: true,
  pingIntervalMs: 30_000,
  startPaused: false,
  random: Math.random,
} satisfies Omit<SimulatorOptions, 'url' | 'chargers'>;

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

type ConnectorState = 'Available' | 'Charging' | 'Faulted' | 'Unavailable';

interface Session {
  /** 1.6: the integer the server handed out; 2.0.1: chosen by the charger. */
  transactionId: number | string;
  idTag: string;
  seqNo: number;
  powerW: number;
  timer: NodeJS.Timeout | undefined;
}

interface Connector {
  id: number;
  state: ConnectorState;
  /** Energy.Active.Import.Register in Wh; grows while charging. */
  energyWh: number;
  energyAt: number;
  session: Session | null;
  /** 2.0.1: the NotifyEvent eventId of the open Problem, referred to when it clears. */
  problemEventId: number | null;
  clearTimer: NodeJS.Timeout | undefined;
  /** The last meter reading's time: readings of one connector never share an instant, as with a real meter. */
  readAt: number;
}

const FAULT_CODES_16 = ['GroundFailure', 'HighTemperature', 'InternalError', 'OverCurrentFailure', 'PowerMeterFailure', 'PowerSwitchFailure', 'ReaderFailure', 'UnderVoltage', 'OverVoltage', 'ConnectorLockFailure'];
const TECH_CODES_201 = ['CX001', 'CX002', 'CX003', 'CX004', 'CX005', 'CX006'];

interface BootResult {
  status: 'Accepted' | 'Pending' | 'Rejected';
  interval: number;
}

/** One simulated charger: a socket, its connectors, and timers for heartbeats, meter values, sessions and faults. */
export class SimulatedCharger {
  readonly client: RPCClient;
  readonly connectors: Connector[];
  private readonly v201: boolean;
  private booted = false;
  private paused: boolean;
  private stopping = false;
  private rebooting = false;
  private inFlight = 0;
  /** Counts the sockets opened, so that a boot knows whether its socket is still the current one. */
  private socket = 0;
  private idleWaiters: Array<() => void> = [];
  private timers = new Set<NodeJS.Timeout>();
  private nextEventId = 1;
  /** Scenario steps (sessions, faults, availability) run one after another, so their messages never interleave. */
  private steps: Promise<void> = Promise.resolve();
  private bootReason: string = 'PowerUp';
  /** How long to wait for calls in flight when stopping or rebooting. */
  private readonly patienceMs: number;
  /** Aborts waits and retries when the charger stops. */
  private readonly stopped = new AbortController();
  private firstBooted!: () => void;
  private readonly firstBoot = new Promise<void>((resolve) => (this.firstBooted = resolve));

  constructor(
    readonly id: string,
    private readonly options: SimulatorOptions,
    private readonly counters: SimulatorCounters,
  ) {
    this.v201 = options.protocol === '2.0.1';
    this.patienceMs = options.callTimeoutMs > 0 ? options.callTimeoutMs : 60_000;
    this.paused = options.startPaused;
    const random = options.random;
    this.connectors = Array.from({ length: options.connectors }, (_, i) => ({
      id: i + 1,
      state: 'Available' as ConnectorState,
      energyWh: Math.round(1_000_000 + random() * 5_000_000),
      energyAt: Date.now(),
      session: null,
      problemEventId: null,
      clearTimer: undefined,
      readAt: 0,
    }));
    const protocol = this.v201 ? 'ocpp2.0.1' : 'ocpp1.6';
    this.client = new RPCClient({
      identity: id,
      endpoint: options.url.replace(/\/+$/, ''),
      password: options.password,
      protocols: [protocol],
      strictMode: options.strictMode,
      strictModeValidators: [],
      reconnect: true,
      maxReconnects: Infinity,
      callTimeoutMs: options.callTimeoutMs > 0 ? options.callTimeoutMs : Infinity,
      pingIntervalMs: options.pingIntervalMs > 0 ? options.pingIntervalMs : Infinity,
      deferPingsOnActivity: true,
      respondWithDetailedErrors: false,
      callConcurrency: 1,
      maxBadMessages: Infinity,
      wsOpts: {},
      headers: {},
      backoff: { initialDelay: 1000, maxDelay: 30_000, factor: 2, randomisationFactor: 0.5 },
    });
    this.client.on('open', () => this.onOpen());
    this.client.on('disconnect', () => this.onDisconnect());
    this.client.on('strictValidationFailure', ({ method, outbound, error }: { method: string; outbound: boolean; error: Error }) => {
      this.noteError(`${outbound ? 'we sent' : 'server sent'} an invalid ${method}: ${error.message}`);
    });
    if (this.v201) this.answerCommands201();
    else this.answerCommands16();
  }

  /** Connects (retrying a refused connection with backoff) and resolves once the first attempt has connected and booted, or failed. */
  async start(): Promise<void> {
    const connected = await this.connectOnce();
    if (connected) await Promise.race([this.firstBoot, this.wait(this.patienceMs * 2).catch(() => undefined)]);
    else void this.keepConnecting().catch(() => undefined);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const connector of this.connectors) {
      clearTimeout(connector.session?.timer);
      clearTimeout(connector.clearTimer);
    }
    await this.idle(this.patienceMs);
    await this.client.close({ code: 1000, reason: 'simulator stopping', awaitPending: true });
  }

  /** Sends a Heartbeat; rejects if it fails. */
  heartbeat(): Promise<unknown> {
    return this.call('Heartbeat', {});
  }

  /** Sends the connector's meter values (MeterValues, with its transaction in 1.6); rejects if it fails. */
  meterValues(connectorId = 1): Promise<unknown> {
    const connector = this.connectors[connectorId - 1];
    if (!connector) throw new Error(`${this.id} has no connector ${connectorId}`);
    return this.call('MeterValues', this.meterValuesPayload(connector));
  }

  private async connectOnce(): Promise<boolean> {
    try {
      await this.client.connect();
      return true;
    } catch (error) {
      this.counters.connectFailures++;
      this.counters.lastError = `${this.id}: connection refused: ${describe(error)}`;
      return false;
    }
  }

  /** RPCClient retries dropped sockets itself, but not a first connection that failed: do that here. */
  private async keepConnecting(): Promise<void> {
    let delay = 2_000;
    while (!this.stopping) {
      await this.wait(delay * (0.5 + this.options.random()));
      if (this.stopping || (await this.connectOnce())) return;
      delay = Math.min(delay * 2, 60_000);
    }
  }

  private onOpen() {
    this.counters.connected++;
    const socket = ++this.socket;
    this.boot(socket).catch((error: unknown) => {
      if (!this.stopping) this.noteError(`${this.id}: boot failed: ${describe(error)}`);
    });
  }

  private onDisconnect() {
    this.counters.connected--;
    if (this.booted) {
      this.booted = false;
      this.counters.booted--;
    }
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** BootNotification until Accepted (Pending and Rejected are retried after the interval the server gives), then every connector's status. */
  private async boot(socket: number) {
    // A boot belongs to one socket: after a reconnect, the new socket's boot takes over.
    const current = () => socket === this.socket && this.client.state === RPCClient.OPEN && !this.stopping;
    for (;;) {
      if (!current()) return;
      let result: BootResult;
      try {
        result = (await this.call('BootNotification', this.bootPayload())) as BootResult;
      } catch {
        await this.wait(this.options.heartbeatIntervalMs);
        continue;
      }
      if (result.status === 'Accepted') break;
      await this.wait(Math.max(1, result.interval || this.options.heartbeatIntervalMs / 1000) * 1000);
    }
    this.bootReason = 'PowerUp';
    for (const connector of this.connectors) {
      // A session does not survive a reconnect in this simulator: the connector comes back idle.
      if (connector.state === 'Charging') connector.state = 'Available';
      clearTimeout(connector.session?.timer);
      connector.session = null;
      await this.send('StatusNotification', this.statusPayload(connector));
    }
    if (!current()) return;
    this.booted = true;
    this.counters.booted++;
    this.firstBooted();
    this.every(this.options.heartbeatIntervalMs, () => this.send('Heartbeat', {}));
    this.every(this.options.meterIntervalMs, () => this.connectors.forEach((c) => this.sendMeterReading(c)));
    this.scheduleRandomly(this.options.sessionsPerHour, () => this.startSession());
    this.scheduleRandomly(this.options.faultRatePerHour, () => this.fault());
  }

  // ── Scenarios ────────────────────────────────────────────────────────────────

  private startSession() {
    const free = this.connectors.filter((c) => c.state === 'Available');
    const connector = free[Math.floor(this.options.random() * free.length)];
    if (!connector) return;
    connector.state = 'Charging';
    this.step(async () => {
      const idTag = `SIM${randomBytes(6).toString('hex').toUpperCase()}`;
      const powerW = [3_700, 7_400, 11_000, 22_000][Math.floor(this.options.random() * 4)]!;
      this.accrue(connector);
      if (this.v201) {
        const session: Session = { transactionId: randomUUID(), idTag, seqNo: 0, powerW, timer: undefined };
        await this.send('StatusNotification', this.statusPayload(connector, 'Occupied'));
        const ok = await this.send('TransactionEvent', this.transactionEvent(connector, session, 'Started', 'Authorized', 'Transaction.Begin'));
        if (!ok) return this.abandonSession(connector);
        connector.session = session;
      } else {
        await this.send('StatusNotification', this.statusPayload(connector, 'Preparing'));
        const started = (await this.send('StartTransaction', { connectorId: connector.id, idTag, meterStart: Math.round(connector.energyWh), timestamp: now() })) as
          | { transactionId: number; idTagInfo: { status: string } }
          | false;
        if (!started || started.idTagInfo.status !== 'Accepted') return this.abandonSession(connector);
        connector.session = { transactionId: started.transactionId, idTag, seqNo: 0, powerW, timer: undefined };
        await this.send('StatusNotification', this.statusPayload(connector, 'Charging'));
      }
      this.counters.sessions++;
      const [min, max] = this.options.sessionDurationMs;
      connector.session.timer = setTimeout(() => this.step(() => this.endSession(connector, 'Local')), min + this.options.random() * (max - min));
    });
  }

  private async abandonSession(connector: Connector) {
    if (connector.state !== 'Charging') return;
    connector.state = 'Available';
    if (!this.v201) await this.send('StatusNotification', this.statusPayload(connector, 'Finishing'));
    await this.send('StatusNotification', this.statusPayload(connector));
  }

  private async endSession(connector: Connector, reason: 'Local' | 'Other' | 'Remote' | 'HardReset' | 'SoftReset' | 'ImmediateReset') {
    const session = connector.session;
    if (!session) return;
    clearTimeout(session.timer);
    connector.session = null;
    this.accrue(connector);
    if (this.v201) {
      const trigger = reason === 'Remote' ? 'RemoteStop' : reason === 'Other' ? 'AbnormalCondition' : reason === 'Local' ? 'StopAuthorized' : 'ResetCommand';
      const stoppedReason = reason === 'HardReset' || reason === 'SoftReset' ? 'ImmediateReset' : reason;
      await this.send('TransactionEvent', this.transactionEvent(connector, session, 'Ended', trigger, 'Transaction.End', stoppedReason));
    } else {
      const stoppedReason = reason === 'ImmediateReset' ? 'HardReset' : reason;
      await this.send('StopTransaction', { transactionId: session.transactionId, idTag: session.idTag, meterStop: Math.round(connector.energyWh), timestamp: now(), reason: stoppedReason });
    }
    if (connector.state === 'Charging') {
      connector.state = 'Available';
      if (!this.v201) await this.send('StatusNotification', this.statusPayload(connector, 'Finishing'));
      await this.send('StatusNotification', this.statusPayload(connector));
    }
  }

  private fault() {
    const candidates = this.connectors.filter((c) => c.state !== 'Faulted');
    const connector = candidates[Math.floor(this.options.random() * candidates.length)];
    if (!connector) return;
    this.step(async () => {
      if (connector.session) await this.endSession(connector, 'Other');
      connector.state = 'Faulted';
      const reported = await this.send('StatusNotification', this.faultPayload(connector));
      if (this.v201) {
        connector.problemEventId = this.nextEventId++;
        await this.send('NotifyEvent', this.problemEvent(connector, true));
      }
      if (reported) this.counters.faults++;
      // Cleared even across a reconnect (not a periodic timer): the next boot reports whatever the connector is then.
      const [min, max] = this.options.faultDurationMs;
      connector.clearTimer = setTimeout(() => this.step(() => this.clearFault(connector)), min + this.options.random() * (max - min));
    });
  }

  private async clearFault(connector: Connector) {
    if (connector.state !== 'Faulted') return;
    connector.state = 'Available';
    if (this.v201) await this.send('NotifyEvent', this.problemEvent(connector, false));
    if (await this.send('StatusNotification', this.statusPayload(connector))) this.counters.cleared++;
    connector.problemEventId = null;
  }

  /** Reset: end sessions, drop the socket, come back a moment later and boot again. */
  private reboot(reason: 'HardReset' | 'SoftReset' | 'ImmediateReset') {
    if (this.rebooting) return;
    this.rebooting = true;
    this.step(async () => {
      for (const connector of this.connectors) await this.endSession(connector, reason);
      await this.idle(this.patienceMs);
      await this.client.close({ code: 1000, reason: 'rebooting' });
      await this.wait(1_000 + this.options.random() * 1_000);
      this.rebooting = false;
      if (this.stopping) return;
      this.bootReason = 'RemoteReset';
      if (!(await this.connectOnce())) void this.keepConnecting().catch(() => undefined);
    });
  }

  private changeAvailability(connectorIds: number[], operative: boolean) {
    this.step(async () => {
      for (const connector of this.connectors.filter((c) => connectorIds.includes(c.id))) {
        if (operative && connector.state === 'Unavailable') connector.state = 'Available';
        else if (!operative && connector.state === 'Available') connector.state = 'Unavailable';
        else continue;
        await this.send('StatusNotification', this.statusPayload(connector));
      }
    });
  }

  /** What TriggerMessage asked for, sent after the answer. */
  private triggered(message: string, connectorId: number | undefined): boolean {
    const connectors = connectorId ? this.connectors.filter((c) => c.id === connectorId) : this.connectors;
    const send: Record<string, () => void> = {
      BootNotification: () => void this.send('BootNotification', this.bootPayload()),
      Heartbeat: () => void this.send('Heartbeat', {}),
      StatusNotification: () => connectors.forEach((c) => void this.send('StatusNotification', this.statusPayload(c))),
      MeterValues: () => connectors.forEach((c) => void this.send('MeterValues', this.meterValuesPayload(c))),
    };
    const action = send[message];
    if (!action) return false;
    setImmediate(action);
    return true;
  }

  // ── Server commands ──────────────────────────────────────────────────────────

  private command(method: string, answer: (params: Record<string, unknown>) => Record<string, unknown>) {
    this.client.handle(method, async ({ params }: IHandlersOption) => {
      this.counters.commands++;
      return answer(params ?? {});
    });
  }

  private answerCommands16() {
    const all = () => this.connectors.map((c) => c.id);
    this.command('Reset', (p) => {
      this.reboot(p.type === 'Soft' ? 'SoftReset' : 'HardReset');
      return { status: 'Accepted' };
    });
    this.command('ChangeAvailability', (p) => {
      const connectorId = Number(p.connectorId);
      this.changeAvailability(connectorId === 0 ? all() : [connectorId], p.type === 'Operative');
      return { status: 'Accepted' };
    });
    this.command('TriggerMessage', (p) => ({ status: this.triggered(String(p.requestedMessage), p.connectorId as number | undefined) ? 'Accepted' : 'NotImplemented' }));
    this.command('RemoteStartTransaction', () => this.remoteStart());
    this.command('RemoteStopTransaction', (p) => this.remoteStop(p.transactionId));
    this.command('UnlockConnector', () => ({ status: 'Unlocked' }));
    this.command('ClearCache', () => ({ status: 'Accepted' }));
    this.command('ChangeConfiguration', () => ({ status: 'Accepted' }));
    this.command('GetConfiguration', () => ({
      configurationKey: [
        { key: 'HeartbeatInterval', readonly: false, value: String(Math.round(this.options.heartbeatIntervalMs / 1000)) },
        { key: 'MeterValueSampleInterval', readonly: false, value: String(Math.round(this.options.meterIntervalMs / 1000)) },
        { key: 'NumberOfConnectors', readonly: true, value: String(this.connectors.length) },
      ],
    }));
    this.command('DataTransfer', () => ({ status: 'UnknownVendorId' }));
  }

  /** A remote start (1.6 RemoteStart, 2.0.1 RequestStart): a session on a free connector. */
  private remoteStart() {
    if (!this.connectors.some((c) => c.state === 'Available')) return { status: 'Rejected' };
    setImmediate(() => this.startSession());
    return { status: 'Accepted' };
  }

  /** A remote stop of one of this charger's sessions. */
  private remoteStop(transactionId: unknown) {
    const connector = this.connectors.find((c) => c.session?.transactionId === transactionId);
    if (!connector) return { status: 'Rejected' };
    this.step(() => this.endSession(connector, 'Remote'));
    return { status: 'Accepted' };
  }

  private answerCommands201() {
    this.command('Reset', () => {
      this.reboot('ImmediateReset');
      return { status: 'Accepted' };
    });
    this.command('ChangeAvailability', (p) => {
      const evse = p.evse as { id: number } | undefined;
      this.changeAvailability(evse && evse.id > 0 ? [evse.id] : this.connectors.map((c) => c.id), p.operationalStatus === 'Operative');
      return { status: 'Accepted' };
    });
    this.command('TriggerMessage', (p) => ({ status: this.triggered(String(p.requestedMessage), (p.evse as { id: number } | undefined)?.id) ? 'Accepted' : 'NotImplemented' }));
    this.command('RequestStartTransaction', () => this.remoteStart());
    this.command('RequestStopTransaction', (p) => this.remoteStop(p.transactionId));
    this.command('UnlockConnector', () => ({ status: 'Unlocked' }));
    this.command('ClearCache', () => ({ status: 'Accepted' }));
    this.command('GetVariables', (p) => ({
      getVariableResult: (p.getVariableData as Array<{ component: object; variable: object }>).map(({ component, variable }) => ({ attributeStatus: 'UnknownVariable', component, variable })),
    }));
    this.command('SetVariables', (p) => ({
      setVariableResult: (p.setVariableData as Array<{ component: object; variable: object }>).map(({ component, variable }) => ({ attributeStatus: 'Accepted', component, variable })),
    }));
    this.command('DataTransfer', () => ({ status: 'UnknownVendorId' }));
  }

  // ── Payloads ─────────────────────────────────────────────────────────────────

  private bootPayload() {
    const serialNumber = this.id.slice(-25);
    if (this.v201) {
      return { reason: this.bootReason, chargingStation: { vendorName: 'Concierge Simulator', model: 'SIM-201', serialNumber, firmwareVersion: '1.0.0' } };
    }
    return { chargePointVendor: 'ConciergeSim', chargePointModel: 'SIM-16', chargePointSerialNumber: serialNumber, firmwareVersion: '1.0.0' };
  }

  /** The connector's status; `as` overrides it with a transitional one (1.6 Preparing/Finishing, 2.0.1 Occupied). */
  private statusPayload(connector: Connector, as?: 'Preparing' | 'Charging' | 'Finishing' | 'Occupied') {
    if (this.v201) {
      const connectorStatus = as ?? (connector.state === 'Charging' ? 'Occupied' : connector.state);
      return { timestamp: now(), connectorStatus, evseId: connector.id, connectorId: 1 };
    }
    return { connectorId: connector.id, errorCode: 'NoError', status: as ?? connector.state, timestamp: now() };
  }

  private faultPayload(connector: Connector) {
    if (this.v201) return this.statusPayload(connector);
    const errorCode = FAULT_CODES_16[Math.floor(this.options.random() * FAULT_CODES_16.length)]!;
    return { connectorId: connector.id, errorCode, status: 'Faulted', timestamp: now(), vendorErrorCode: `E${100 + Math.floor(this.options.random() * 900)}`, info: 'simulated fault' };
  }

  /** 2.0.1 NotifyEvent on the connector's `Problem` variable: raised (actualValue "true") or cleared. */
  private problemEvent(connector: Connector, raised: boolean) {
    const eventId = raised ? connector.problemEventId! : this.nextEventId++;
    const techCode = TECH_CODES_201[Math.floor(this.options.random() * TECH_CODES_201.length)]!;
    return {
      generatedAt: now(),
      seqNo: 0,
      tbc: false,
      eventData: [
        {
          eventId,
          timestamp: now(),
          trigger: 'Delta',
          actualValue: raised ? 'true' : 'false',
          eventNotificationType: 'HardWiredNotification',
          component: { name: 'Connector', evse: { id: connector.id, connectorId: 1 } },
          variable: { name: 'Problem' },
          ...(raised ? { techCode, techInfo: 'simulated fault' } : { cleared: true, ...(connector.problemEventId ? { cause: connector.problemEventId } : {}) }),
        },
      ],
    };
  }

  private sampledValues(connector: Connector, context: string) {
    const powerW = connector.session?.powerW ?? 0;
    const energy = Math.round(connector.energyWh);
    if (this.v201) {
      return [
        { value: energy, context, measurand: 'Energy.Active.Import.Register', location: 'Outlet', unitOfMeasure: { unit: 'Wh' } },
        { value: powerW, context, measurand: 'Power.Active.Import', location: 'Outlet', unitOfMeasure: { unit: 'W' } },
      ];
    }
    return [
      { value: String(energy), context, format: 'Raw', measurand: 'Energy.Active.Import.Register', location: 'Outlet', unit: 'Wh' },
      { value: String(powerW), context, format: 'Raw', measurand: 'Power.Active.Import', location: 'Outlet', unit: 'W' },
    ];
  }

  private meterValuesPayload(connector: Connector) {
    this.accrue(connector);
    const meterValue = [{ timestamp: this.readingTime(connector), sampledValue: this.sampledValues(connector, 'Sample.Periodic') }];
    if (this.v201) return { evseId: connector.id, meterValue };
    const transactionId = connector.session?.transactionId;
    return { connectorId: connector.id, ...(typeof transactionId === 'number' ? { transactionId } : {}), meterValue };
  }

  private transactionEvent(connector: Connector, session: Session, eventType: 'Started' | 'Updated' | 'Ended', triggerReason: string, context: string, stoppedReason?: string) {
    return {
      eventType,
      timestamp: now(),
      triggerReason,
      seqNo: session.seqNo++,
      transactionInfo: {
        transactionId: String(session.transactionId),
        chargingState: eventType === 'Ended' ? 'EVConnected' : 'Charging',
        ...(stoppedReason ? { stoppedReason } : {}),
      },
      ...(eventType === 'Started' ? { evse: { id: connector.id, connectorId: 1 }, idToken: { idToken: session.idTag, type: 'ISO14443' } } : {}),
      meterValue: [{ timestamp: this.readingTime(connector), sampledValue: this.sampledValues(connector, context) }],
    };
  }

  /** The periodic reading: 2.0.1 reports a connector in a session through its transaction. */
  private sendMeterReading(connector: Connector) {
    if (this.v201 && connector.session) {
      this.accrue(connector);
      void this.send('TransactionEvent', this.transactionEvent(connector, connector.session, 'Updated', 'MeterValuePeriodic', 'Sample.Periodic'));
    } else {
      void this.send('MeterValues', this.meterValuesPayload(connector));
    }
  }

  private readingTime(connector: Connector): string {
    connector.readAt = Math.max(Date.now(), connector.readAt + 1);
    return new Date(connector.readAt).toISOString();
  }

  private accrue(connector: Connector) {
    const at = Date.now();
    if (connector.session) connector.energyWh += (connector.session.powerW * (at - connector.energyAt)) / 3_600_000;
    connector.energyAt = at;
  }

  // ── Plumbing ─────────────────────────────────────────────────────────────────

  /** Every call goes through here: counted, timed, and reported to `onCall`. */
  private async call(action: string, params: object): Promise<unknown> {
    const counts = (this.counters.byAction[action] ??= { sent: 0, answered: 0, errors: 0 });
    this.counters.sent++;
    counts.sent++;
    this.inFlight++;
    const begin = performance.now();
    try {
      const result = await this.client.call(action, params);
      this.counters.answered++;
      counts.answered++;
      this.options.onCall?.(action, performance.now() - begin, true);
      return result;
    } catch (error) {
      this.counters.errors++;
      counts.errors++;
      this.options.onCall?.(action, performance.now() - begin, false);
      this.noteError(`${this.id}: ${action}: ${describe(error)}`);
      throw error;
    } finally {
      if (--this.inFlight === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
    }
  }

  /** A call whose failure is already counted: resolves to its result, or false. */
  private send(action: string, params: object): Promise<unknown> {
    if (this.client.state !== RPCClient.OPEN || this.stopping) return Promise.resolve(false);
    return this.call(action, params).catch(() => false);
  }

  private step(run: () => Promise<void>) {
    this.steps = this.steps.then(run).catch((error: unknown) => this.noteError(`${this.id}: ${describe(error)}`));
  }

  private idle(timeoutMs: number): Promise<unknown> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private active() {
    return this.booted && !this.paused && !this.stopping && !this.rebooting;
  }

  /** Runs `fn` every `ms` while active, the first time at a random point of the first period (spreads the load). */
  private every(ms: number, fn: () => void) {
    if (ms <= 0) return;
    const tick = (delay: number) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.active()) fn();
        tick(ms);
      }, delay);
      this.timers.add(timer);
    };
    tick(this.options.random() * ms);
  }

  /** Runs `fn` as a Poisson process of `perHour` events an hour, while active. */
  private scheduleRandomly(perHour: number, fn: () => void) {
    if (perHour <= 0) return;
    const meanMs = 3_600_000 / perHour;
    const tick = () => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.active()) fn();
        tick();
      }, -Math.log(1 - this.options.random()) * meanMs);
      this.timers.add(timer);
    };
    tick();
  }

  /** Sleeps; rejects (AbortError) when the charger stops. */
  private wait(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.stopped.signal });
  }

  private noteError(message: string) {
    this.counters.lastError = message;
  }
}

function now(): string {
  return new Date().toISOString();
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // A refused handshake (UnexpectedHttpResponse) carries the HTTP status as `code`.
  return 'code' in error && typeof error.code === 'number' ? `${error.code} ${error.message}` : error.message;
}
