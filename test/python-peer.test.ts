import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningConcierge } from '../runtime/concierge.js';
import { apiClient, eventually, startTestApp, uniqueId } from './support/app.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';

/**
 * An independent peer: Mobility House's Python `ocpp` library, installed by the setup step into
 * .tools/venv, drives a 1.6 and a 2.0.1 charge point against the gateway (test/peer/). It shares
 * no code with ours, so what passes here is what another implementation of OCPP agrees with.
 */

const PYTHON = fileURLToPath(new URL('../.tools/venv/bin/python', import.meta.url));
const PASSWORD = 'python-peer-password-42';

interface Step {
  step: string;
  error?: { code: string; description: string };
  [field: string]: unknown;
}

/** A peer script running as a child process; its stdout lines are the steps it reports. */
class Peer {
  readonly steps: Step[] = [];
  private stderr = '';
  readonly exitCode: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.steps.push(JSON.parse(line) as Step));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exitCode = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(script: string, gatewayUrl: string, chargerId: string): Peer {
    const child = spawn(PYTHON, [fileURLToPath(new URL(`./peer/${script}`, import.meta.url)), `${gatewayUrl}/ocpp`, chargerId, PASSWORD, '--wait', '90'], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Peer(child);
  }

  /** The first line reporting `step` (that `matches`), once the peer has printed it. */
  async waitFor(step: string, matches: (line: Step) => boolean = () => true): Promise<Step> {
    try {
      return await eventually(async () => this.steps.find((line) => line.step === step && matches(line)), 20_000, `the peer's "${step}" line`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nthe peer printed:\n${this.steps.map((line) => JSON.stringify(line)).join('\n')}\nits log ends:\n${this.stderr.slice(-3000)}`);
    }
  }

  /** Every line reporting `step`, in order. */
  all(step: string): Step[] {
    return this.steps.filter((line) => line.step === step);
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }
}

const peers = [
  { protocol: 'ocpp1.6', script: 'charge_point_16.py', model: 'ocpp-1.6' },
  { protocol: 'ocpp2.0.1', script: 'charge_point_201.py', model: 'ocpp-2.0.1' },
] as const;

describe.each(databaseKinds)('Python ocpp peers on %s', (kind) => {
  let dataDir: string;
  let database: TestDatabase;
  let app: RunningConcierge;
  const api = () => apiClient(app.url);

  beforeAll(async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`npm run setup\` to install the Python peer`);
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-peer-'));
    database = await createTestDatabase(kind);
    app = await startTestApp({ dataDir, database, taskQueue: uniqueId('peer') });
  });

  afterAll(async () => {
    await app?.stop();
    await database?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe.each(peers)('$protocol charge point', ({ protocol, script, model }) => {
    let chargerId: string;
    let peer: Peer;

    beforeAll(async () => {
      chargerId = uniqueId('PY');
      expect((await api().post('/api/chargers', { id: chargerId, password: PASSWORD })).status).toBe(201);
      peer = Peer.start(script, app.url.replace('http', 'ws'), chargerId);
    });

    afterAll(() => peer?.stop());

    it('boots: the charger row has its vendor, model and protocol', async () => {
      expect(await peer.waitFor('connected')).toEqual({ step: 'connected', protocol });
      expect(await peer.waitFor('booted')).toEqual({ step: 'booted', status: 'Accepted', interval: 300 });
      const row = await app.db.selectFrom('chargers').selectAll().where('id', '=', chargerId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ vendor: 'Mobility House peer', model, serialNumber: expect.stringMatching(/^PEER/), firmwareVersion: '2.1.0', protocol, connected: true });
      expect(row.bootedAt).toBeInstanceOf(Date);
    });

    it('reports a fault on connector 1, which opens an incident', async () => {
      expect(await peer.waitFor('faulted')).not.toHaveProperty('error');
      const incident = await eventually(async () => (await api().get(`/api/incidents?chargerId=${chargerId}`)).body.incidents[0], 15_000, 'the incident');
      expect(incident).toMatchObject({ chargerId, connectorId: 1, priority: 'P2' });
      expect(incident.faults[0]).toMatchObject({ status: 'Faulted', ...(protocol === 'ocpp1.6' ? { errorCode: 'GroundFailure', vendorErrorCode: 'E-GF-32mA', info: 'RCD tripped' } : {}) });
    });
  });
});
