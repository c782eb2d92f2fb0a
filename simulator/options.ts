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
