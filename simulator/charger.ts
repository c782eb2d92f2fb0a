import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RPCClient, type IHandlersOption } from 'ocpp-rpc';
import { accrue, type Connector, type ConnectorState, type ResetReason, type SessionEndReason } from './connector.js';
import type { SimulatorCounters } from './counters.js';
import type { SimulatorOptions } from './options.js';
import type { BootReason, ChargerControls, ChargerLink, CommandAnswer, ProtocolVersion } from './protocol.js';
import { Ocpp16 } from './v16.js';
import { Ocpp201 } from './v201.js';

interface BootResult {
  status: 'Accepted' | 'Pending' | 'Rejected';
  interval: number;
}

/** One simulated charger: a socket, its connectors, and timers for heartbeats, meter values, sessions and faults. */
export class SimulatedCharger {
  readonly client: RPCClient;
  readonly connectors: Connector[];
  /** What this charger says, in its OCPP version. */
  private readonly version: ProtocolVersion;
  private booted = false;
  private paused: boolean;
  private stopping = false;
  private rebooting = false;
  private inFlight = 0;
  /** Counts the sockets opened, so that a boot knows whether its socket is still the current one. */
  private socket = 0;
  private idleWaiters: Array<() => void> = [];
  private timers = new Set<NodeJS.Timeout>();
  /** Scenes of the charger's life (a session, a fault, a change of availability) play one after another, so their messages never interleave. */
  private scenes: Promise<void> = Promise.resolve();
  private bootReason: BootReason = 'PowerUp';
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
    const link: ChargerLink = { id, options, send: (action, params) => this.send(action, params) };
    this.version = options.protocol === '2.0.1' ? new Ocpp201(link) : new Ocpp16(link);
    this.patienceMs = options.callTimeoutMs > 0 ? options.callTimeoutMs : 60_000;
    this.paused = options.startPaused;
    const random = options.random;
    this.connectors = Array.from({ length: options.connectors }, (_, i) => ({
      id: i + 1,
      state: 'Available' as ConnectorState,
      energyWh: Math.round(1_000_000 + random() * 5_000_000),
      energyAt: Date.now(),
      session: null,
      clearTimer: undefined,
      readAt: 0,
    }));
    this.client = new RPCClient({
      identity: id,
      endpoint: options.url.replace(/\/+$/, ''),
      password: options.password,
      protocols: [this.version.subprotocol],
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
    this.answerCommands();
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
    return this.call('MeterValues', this.version.meterValues(connector));
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
        result = (await this.call('BootNotification', this.version.bootNotification(this.bootReason))) as BootResult;
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
      await this.send('StatusNotification', this.version.statusNotification(connector));
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
    this.play(async () => {
      const idTag = `SIM${randomBytes(6).toString('hex').toUpperCase()}`;
      const powerW = [3_700, 7_400, 11_000, 22_000][Math.floor(this.options.random() * 4)]!;
      accrue(connector);
      if (!(await this.version.startTransaction(connector, idTag, powerW))) return this.abandonSession(connector);
      this.counters.sessions++;
      const [min, max] = this.options.sessionDurationMs;
      connector.session!.timer = setTimeout(() => this.play(() => this.endSession(connector, 'Local')), min + this.options.random() * (max - min));
    });
  }

  private async abandonSession(connector: Connector) {
    if (connector.state !== 'Charging') return;
    connector.state = 'Available';
    await this.version.reportSessionOver(connector);
  }

  private async endSession(connector: Connector, reason: SessionEndReason) {
    const session = connector.session;
    if (!session) return;
    clearTimeout(session.timer);
    connector.session = null;
    accrue(connector);
    await this.version.stopTransaction(connector, session, reason);
    if (connector.state === 'Charging') {
      connector.state = 'Available';
      await this.version.reportSessionOver(connector);
    }
  }

  private fault() {
    const candidates = this.connectors.filter((c) => c.state !== 'Faulted');
    const connector = candidates[Math.floor(this.options.random() * candidates.length)];
    if (!connector) return;
    this.play(async () => {
      if (connector.session) await this.endSession(connector, 'Other');
      connector.state = 'Faulted';
      if (await this.version.reportFault(connector)) this.counters.faults++;
      // Cleared even across a reconnect (not a periodic timer): the next boot reports whatever the connector is then.
      const [min, max] = this.options.faultDurationMs;
      connector.clearTimer = setTimeout(() => this.play(() => this.clearFault(connector)), min + this.options.random() * (max - min));
    });
  }

  private async clearFault(connector: Connector) {
    if (connector.state !== 'Faulted') return;
    connector.state = 'Available';
    if (await this.version.reportCleared(connector)) this.counters.cleared++;
  }

  /** Reset: end sessions, drop the socket, come back a moment later and boot again. */
  private reboot(reason: ResetReason) {
    if (this.rebooting) return;
    this.rebooting = true;
    this.play(async () => {
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
    this.play(async () => {
      for (const connector of this.connectors.filter((c) => connectorIds.includes(c.id))) {
        if (operative && connector.state === 'Unavailable') connector.state = 'Available';
        else if (!operative && connector.state === 'Available') connector.state = 'Unavailable';
        else continue;
        await this.send('StatusNotification', this.version.statusNotification(connector));
      }
    });
  }

  /** What TriggerMessage asked for, sent after the answer. */
  private triggered(message: string, connectorId: number | undefined): boolean {
    const connectors = connectorId ? this.connectors.filter((c) => c.id === connectorId) : this.connectors;
    const send: Record<string, () => void> = {
      BootNotification: () => void this.send('BootNotification', this.version.bootNotification(this.bootReason)),
      Heartbeat: () => void this.send('Heartbeat', {}),
      StatusNotification: () => connectors.forEach((c) => void this.send('StatusNotification', this.version.statusNotification(c))),
      MeterValues: () => connectors.forEach((c) => void this.send('MeterValues', this.version.meterValues(c))),
    };
    const action = send[message];
    if (!action) return false;
    setImmediate(action);
    return true;
  }

  /** The periodic reading (2.0.1 reports a connector in a session through its transaction). */
  private sendMeterReading(connector: Connector) {
    const [action, params] = this.version.periodicReading(connector);
    void this.send(action, params);
  }

  // ── Server commands ──────────────────────────────────────────────────────────

  private answerCommands() {
    const controls: ChargerControls = {
      connectorIds: () => this.connectors.map((c) => c.id),
      reboot: (reason) => this.reboot(reason),
      changeAvailability: (connectorIds, operative) => this.changeAvailability(connectorIds, operative),
      trigger: (message, connectorId) => this.triggered(message, connectorId),
      remoteStart: () => this.remoteStart(),
      remoteStop: (transactionId) => this.remoteStop(transactionId),
    };
    for (const [method, answer] of Object.entries(this.version.commands(controls))) this.command(method, answer);
  }

  private command(method: string, answer: CommandAnswer) {
    this.client.handle(method, async ({ params }: IHandlersOption) => {
      this.counters.commands++;
      return answer(params ?? {});
    });
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
    this.play(() => this.endSession(connector, 'Remote'));
    return { status: 'Accepted' };
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

  private play(scene: () => Promise<void>) {
    this.scenes = this.scenes.then(scene).catch((error: unknown) => this.noteError(`${this.id}: ${describe(error)}`));
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

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // A refused handshake (UnexpectedHttpResponse) carries the HTTP status as `code`.
  return 'code' in error && typeof error.code === 'number' ? `${error.code} ${error.message}` : error.message;
}
