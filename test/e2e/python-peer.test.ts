import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, uniqueId, useTestApp } from '../support/app.js';
import { databaseKinds } from '../support/databases.js';

/**
 * An independent peer: Mobility House's Python `ocpp` library, installed by the setup step into
 * .tools/venv, drives a 1.6 and a 2.0.1 charge point against the gateway (test/peer/). It shares
 * no code with ours, so what passes here is what another implementation of OCPP agrees with.
 */

const PYTHON = fileURLToPath(new URL('../../.tools/venv/bin/python', import.meta.url));
const PASSWORD = 'python-peer-password-42';

interface Step {
  step: string;
  error?: { code: string; description: string };
  [field: string]: unknown;
}

function parseStep(line: string): Step {
  try {
    return JSON.parse(line) as Step;
  } catch {
    return { step: 'unparsed', line };
  }
}

/** A peer script running as a child process; its stdout lines are the steps it reports. */
class Peer {
  readonly steps: Step[] = [];
  private stderr = '';
  readonly exitCode: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.steps.push(parseStep(line)));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exitCode = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(script: string, gatewayUrl: string, chargerId: string): Peer {
    const child = spawn(PYTHON, [fileURLToPath(new URL(`../peer/${script}`, import.meta.url)), `${gatewayUrl}/ocpp`, chargerId, PASSWORD, '--wait', '90'], {
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
  { protocol: 'ocpp1.6', script: 'charge_point_16.py', model: 'ocpp-1.6', reset: { type: 'Soft' } },
  { protocol: 'ocpp2.0.1', script: 'charge_point_201.py', model: 'ocpp-2.0.1', reset: { type: 'Immediate' } },
] as const;

describe.each(databaseKinds)('Python ocpp peers on %s', (kind) => {
  beforeAll(() => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`npm run setup\` to install the Python peer`);
  });
  const concierge = useTestApp({ name: 'peer', database: kind });
  const api = () => concierge.admin;

  describe.each(peers)('$protocol charge point', ({ protocol, script, model, reset }) => {
    let chargerId: string;
    let peer: Peer;

    beforeAll(async () => {
      chargerId = uniqueId('PY');
      expect((await api().post('/api/chargers', { id: chargerId, password: PASSWORD })).status).toBe(201);
      peer = Peer.start(script, concierge.ws, chargerId);
    });

    afterAll(() => peer?.stop());

    it('boots: the charger row has its vendor, model and protocol', async () => {
      expect(await peer.waitFor('connected')).toEqual({ step: 'connected', protocol });
      expect(await peer.waitFor('booted')).toEqual({ step: 'booted', status: 'Accepted', interval: 300 });
      const row = await concierge.db.selectFrom('chargers').selectAll().where('id', '=', chargerId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ vendor: 'Mobility House peer', model, serialNumber: expect.stringMatching(/^PEER/), firmwareVersion: '2.1.0', protocol, connected: true });
      expect(row.bootedAt).toBeInstanceOf(Date);
    });

    it('reports a fault on connector 1, which opens an incident', async () => {
      expect(await peer.waitFor('faulted')).not.toHaveProperty('error');
      if (protocol === 'ocpp2.0.1') expect(await peer.waitFor('event-notified')).toEqual({ step: 'event-notified', techCode: 'CX002' });
      expect(await peer.waitFor('recovered')).not.toHaveProperty('error');
      const incident = await eventually(async () => (await api().get(`/api/incidents?chargerId=${chargerId}`)).body.incidents[0], 15_000, 'the incident');
      expect(incident).toMatchObject({ chargerId, connectorId: 1, priority: 'P2' });
      expect(incident.faults[0]).toMatchObject({ status: 'Faulted', ...(protocol === 'ocpp1.6' ? { errorCode: 'GroundFailure', vendorErrorCode: 'E-GF-32mA', info: 'RCD tripped' } : {}) });
      if (protocol === 'ocpp2.0.1') {
        // 2.0.1's StatusNotification has no error code: the NotifyEvent's problem adds it to the incident.
        const detailed = await eventually(async () => {
          const { body } = await api().get(`/api/incidents/${incident.id}`);
          return body.faults.find((fault: { errorCode: string }) => fault.errorCode === 'CX002');
        }, 15_000, 'the NotifyEvent problem on the incident');
        expect(detailed).toMatchObject({ info: 'Ground fault: residual current 32 mA on connector 1' });
      }
    });

    it('charges one session of 7500 Wh, though it resent its transaction messages', async () => {
      await peer.waitFor('waiting');
      expect(peer.steps.filter((line) => line.error)).toEqual([]);
      expect(await peer.waitFor('authorized')).toEqual({ step: 'authorized', status: 'Accepted' });
      const [started, ...restarted] = peer.all('started');
      const [stopped] = peer.all('stopped');
      expect(started).toMatchObject({ authorization: 'Accepted' });
      // 1.6: the resent StartTransaction is the same session, so it gets the same transaction id.
      for (const again of restarted) expect(again).toMatchObject({ transactionId: started!.transactionId, authorization: 'Accepted' });
      expect(peer.all('metered').map((line) => line.resent)).toEqual([false, true]);
      expect(peer.all('stopped').map((line) => line.resent)).toEqual([false, true]);

      const session = await eventually(
        async () => (await concierge.db.selectFrom('sessions').selectAll().where('chargerId', '=', chargerId).execute()).find((row) => row.status === 'ended'),
        10_000,
        'the ended session',
      );
      expect(session).toMatchObject({ connectorId: 1, transactionId: String(started!.transactionId), idTag: '04A1B2C3D4E5F6', protocol, stopReason: 'Local' });
      expect(session.startedAt.toISOString()).toBe(started!.at);
      expect(session.endedAt?.toISOString()).toBe(stopped!.at);
      expect([session.meterStartWh, session.meterStopWh, session.energyWh].map(Number)).toEqual([1000, 8500, 7500]);
      expect(await concierge.db.selectFrom('sessions').select('id').where('chargerId', '=', chargerId).execute()).toHaveLength(1);

      const [metered] = peer.all('metered');
      const samples = await concierge.db.selectFrom('meterSamples').selectAll().where('chargerId', '=', chargerId).where('sampledAt', '=', new Date(metered!.at as string)).execute();
      expect(samples).toEqual([expect.objectContaining({ connectorId: 1, transactionId: String(started!.transactionId), measurand: 'Energy.Active.Import.Register', unit: 'Wh' })]);
      expect(Number(samples[0]!.value)).toBe(4000);
    });

    it('answers a Reset sent through the API, and goes', async () => {
      await peer.waitFor('waiting');
      const response = await api().post(`/api/chargers/${chargerId}/commands/Reset`, reset);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ response: { status: 'Accepted' } });
      expect(await peer.waitFor('reset')).toEqual({ step: 'reset', type: reset.type });
      expect(await peer.exitCode).toBe(0);
      await eventually(async () => (await api().get(`/api/chargers/${chargerId}`)).body.connected === false, 10_000, 'the disconnect');
    });
  });
});
