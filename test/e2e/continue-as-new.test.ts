import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { chargerReported, incidentQuery } from '../../workflows/incident/messages.js';
import { useOwnTemporal } from '../support/temporal.js';
import { CHARGER_PASSWORD, eventually, useTestApp } from '../support/app.js';
import { RawCharger } from '../../simulator/raw-charger.js';

/** History events after which the server suggests continue-as-new (default: thousands). */
const SUGGEST_AFTER_EVENTS = 60;

/**
 * A long incident (a flapping charger, weeks of steps) outgrows its workflow history and continues
 * as a new run: a server that suggests it early makes that happen within a test.
 */
describe('an incident that continues as new', () => {
  const temporal = useOwnTemporal({ 'limit.historyCount.suggestContinueAsNew': SUGGEST_AFTER_EVENTS });
  const concierge = useTestApp({ name: 'can', env: () => ({ TEMPORAL_ADDRESS: temporal.address }), captureHistoriesAs: 'continue-as-new' });

  it('keeps its id, faults, steps and clocks in the new run, records nothing twice, and still takes steps', { timeout: 120_000 }, async () => {
    const api = concierge.admin;
    const id = await concierge.registerCharger();
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const opened = await eventually(async () => (await api.get(`/api/incidents?chargerId=${id}`)).body.incidents[0], 10_000, 'the incident');
    const projection = () => concierge.db.selectFrom('incidents').select(['runId', 'respondBy', 'fixBy']).where('id', '=', opened.id).executeTakeFirstOrThrow();
    const first = await projection();
    // A charger report the incident has seen, sent again after the new run: it is not recorded twice.
    const connection = await Connection.connect({ address: temporal.address });
    const workflow = new Client({ connection }).workflow.getHandle(`incident:${id}:1`);
    const report = { eventId: 'status:probe', kind: 'status', status: 'Faulted', at: new Date().toISOString() } as const;
    await workflow.signal(chargerReported, report);

    // Every fault is a signal, a projection save and its events: enough of them outgrow the history.
    const codes = ['HighTemperature', 'GroundFailure'];
    const faults = 30;
    for (let i = 0; i < faults; i++) {
      await charger.call('StatusNotification', { connectorId: 1, errorCode: codes[i % 2], status: 'Faulted', info: `flap ${i}` });
    }
    const incident = await eventually(async () => {
      const { body } = await api.get(`/api/incidents/${opened.id}`);
      return body.faults.length === faults + 1 && (await projection()).runId !== first.runId ? body : null;
    }, 60_000, 'every fault in the incident, and a new run');

    // Same incident, same deadlines; the faults and steps of the first run are stored once.
    expect(incident.id).toBe(opened.id);
    const now = await projection();
    expect([now.respondBy, now.fixBy]).toEqual([first.respondBy, first.fixBy]);
    const storedFaults = await concierge.db.selectFrom('incidentFaults').select('eventId').where('incidentId', '=', opened.id).execute();
    expect(storedFaults).toHaveLength(faults + 1);
    expect(new Set(storedFaults.map((f) => f.eventId)).size).toBe(faults + 1);
    const storedSteps = await concierge.db.selectFrom('incidentSteps').select('seq').where('incidentId', '=', opened.id).execute();
    expect(storedSteps).toHaveLength(incident.steps.length);

    // Read from the workflow itself (a query is answered after the signals before it are handled).
    const statusSteps = async () => (await workflow.query(incidentQuery)).steps.filter((s) => s.step === 'charger-status').length;
    const before = await statusSteps();
    expect(before).toBeGreaterThan(0);
    await workflow.signal(chargerReported, report);
    expect(await statusSteps()).toBe(before);
    await connection.close();

    // The new run takes steps, even while the projection still names the previous run (as it does
    // until the new run first saves), and the fault after it lands in the same incident.
    await concierge.db.updateTable('incidents').set({ runId: first.runId }).where('id', '=', opened.id).execute();
    const acknowledged = await api.post(`/api/incidents/${opened.id}/acknowledge`, {});
    expect(acknowledged.status).toBe(200);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'OverVoltage', status: 'Faulted' });
    await eventually(async () => (await api.get(`/api/incidents/${opened.id}`)).body.faults.length === faults + 2, 10_000, 'the fault after the new run');
    expect((await api.get(`/api/incidents?chargerId=${id}`)).body.incidents).toHaveLength(1);
    await charger.close();
  });
});
