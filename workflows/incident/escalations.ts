import { describeTrigger, type DueEscalation } from '../../contracts/escalation.js';
import { MAIL_REFUSED } from '../../contracts/notifications.js';
import { clockState } from '../../contracts/sla-clock.js';
import { DATABASE_REFUSED, storableCopy } from '../../contracts/storable-text.js';
import { sendEscalation } from './activities.js';
import { refusedFailure } from './failures.js';
import { system, type IncidentState } from './state.js';

/**
 * Sends the agreement's escalation notices, each beside the SLA timer (a mail server that is down
 * must not hold up breaches or verification); `inFlight` says how many are still being sent, which
 * the workflow waits for before it ends or continues as new.
 */
export class Escalations {
  inFlight = 0;

  constructor(private readonly state: IncidentState) {}

  async send(due: DueEscalation): Promise<void> {
    const { incident } = this.state;
    // Marked due-and-handled at once, so the timer moves on to the next event while it is sent.
    incident.escalations.push(due.key);
    this.inFlight++;
    const clock = clockState(incident.clocks[due.clock], new Date());
    const trigger = describeTrigger(due.level.trigger);
    const sent = { level: due.level.level, trigger, repeat: due.repeat, recipients: due.level.recipients.map((r) => r.email) };
    try {
      // The notice is recorded in the database too: its texts go as the database can store them.
      await sendEscalation(storableCopy({
        key: due.key,
        incidentId: incident.id,
        level: due.level.level,
        trigger,
        repeat: due.repeat,
        recipients: due.level.recipients,
        chargerId: incident.chargerId,
        connectorId: incident.connectorId,
        priority: incident.priority,
        siteName: incident.site?.name ?? null,
        siteAddress: incident.site?.address ?? null,
        agreementName: incident.terms.agreementName,
        status: incident.status,
        openedAt: incident.openedAt,
        clock: due.clock,
        deadline: clock.breachAt,
        percentElapsed: clock.percent,
        faultSummary: incident.faults.map((f) => f.errorCode).filter((code, i, all) => all.indexOf(code) === i).join(', ') || (incident.report?.description ?? incident.source),
        timeZone: incident.site?.timeZone ?? incident.clocks[due.clock].calendar?.timeZone ?? null,
        // A site incident's offline faults each name their charger first ("<charger>: no connection since …").
        ...(incident.chargerId.startsWith('site:') ? { offlineChargers: [...new Set(incident.faults.filter((f) => f.status === 'Offline').map((f) => (f.info ?? '').split(':')[0]!))] } : {}),
      }));
      this.state.record('escalated', system, null, sent);
    } catch (error) {
      // Refused for good (unknown mailbox, relaying denied, data the database cannot record): on
      // record for the people who read the incident, and the incident goes on. Anything else is
      // retried until it goes through.
      const refusal = refusedFailure(error, MAIL_REFUSED) ?? refusedFailure(error, DATABASE_REFUSED);
      if (!refusal) throw error;
      this.state.record('escalation-failed', system, null, { ...sent, reason: refusal.message });
    } finally {
      this.inFlight--;
    }
  }
}
