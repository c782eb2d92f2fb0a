import { condition, deprecatePatch, log } from '@temporalio/workflow';
import type { Incident, IncidentChange } from '../../contracts/incident.js';
import { clockState } from '../../contracts/sla-clock.js';
import { DATABASE_REFUSED, storableCopy } from '../../contracts/storable-text.js';
import { saveIncident } from './activities.js';
import { PROJECTION_SAVED_AFTER_THE_TASK } from './patches.js';
import { refusedFailure } from './failures.js';

/**
 * Keeps the database projection in step with the workflow: one save at a time, newest state
 * wins, and a burst of changes (a flapping charger) coalesces into a few writes. When the database
 * refuses the data for good, the saver says so (`refused`) and saves from then on a copy it can
 * store (unstorable characters replaced); if even that is refused, the revision is given up (the
 * next change tries again), so steps waiting for their save still answer.
 */
export class ProjectionSaver {
  private savedRevision = 0;
  private running = false;

  constructor(
    private readonly incident: Incident,
    private savedFaults: number,
    private savedSteps: number,
    private readonly refused: (cause: string) => void,
  ) {}

  /** Marks the incident changed and returns the revision that holds the change. */
  changed(): number {
    this.incident.revision += 1;
    if (!this.running) {
      this.running = true;
      // After the current step has made all its changes: a save never holds half a step.
      void Promise.resolve().then(() => this.run());
    }
    return this.incident.revision;
  }

  /** Resolves once the given revision is in the database. */
  async saved(revision: number): Promise<void> {
    await condition(() => this.savedRevision >= revision);
  }

  async drain(): Promise<void> {
    await this.saved(this.incident.revision);
  }

  /** How many of the incident's faults and steps the database holds. */
  savedCounts(): { savedFaults: number; savedSteps: number } {
    return { savedFaults: this.savedFaults, savedSteps: this.savedSteps };
  }

  private async run() {
    while (this.savedRevision < this.incident.revision) {
      const { faults, steps, ...state } = this.incident;
      const faultCount = faults.length;
      const stepCount = steps.length;
      const now = new Date();
      const response = clockState(state.clocks.response, now);
      const fix = clockState(state.clocks.fix, now);
      const change: IncidentChange = {
        incident: { ...state, tasks: state.tasks.map((t) => ({ ...t, dueAt: t.status === 'open' || t.status === 'claimed' ? fix.breachAt : t.dueAt })) },
        sla: {
          respondBy: response.breachAt,
          fixBy: fix.breachAt,
          responseBreached: response.breached,
          fixBreached: fix.breached,
          responseEverBreached: response.everBreached,
          fixEverBreached: fix.everBreached,
        },
        newFaults: faults.slice(this.savedFaults, faultCount),
        newSteps: steps.slice(this.savedSteps, stepCount),
      };
      const degraded = Boolean(this.incident.degraded);
      deprecatePatch(PROJECTION_SAVED_AFTER_THE_TASK);
      try {
        await saveIncident(degraded ? storableCopy(change) : change);
      } catch (error) {
        const refusal = refusedFailure(error, DATABASE_REFUSED);
        if (!refusal) throw error;
        if (!degraded) {
          this.refused(refusal.message); // a change: the loop saves again, as the database can store it
          continue;
        }
        log.error('incident projection refused by the database even with unstorable characters replaced; this revision is not saved', { incidentId: this.incident.id, revision: state.revision, cause: refusal.message });
        this.savedRevision = state.revision;
        continue;
      }
      this.savedRevision = state.revision;
      this.savedFaults = faultCount;
      this.savedSteps = stepCount;
    }
    this.running = false;
  }
}
