import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { History } from '@temporalio/worker';

/** The captured histories the replay test replays (`npm run capture-histories` writes them). */
export const HISTORIES_DIR = fileURLToPath(new URL('./histories/', import.meta.url));

/** One captured workflow run, with what the scenarios below read from it. */
export interface CapturedHistory {
  file: string;
  workflowId: string;
  workflowType: string;
  history: History;
  /** Updates the workflow accepted, by name. */
  updates: Set<string>;
  /** Signals it received, by name. */
  signals: Set<string>;
  /** Activities it scheduled, by type. */
  activities: Set<string>;
  /** The `patched()` ids its history carries; a `deprecatePatch()` marker as `<id> (deprecated)`. */
  patches: Set<string>;
  /** Timeline steps found in its payloads (saved projections, its result, its continue-as-new input) and in the state its query showed at capture. */
  steps: Array<{ step: string; data: Record<string, unknown> | null }>;
  /** The workflow's start input. */
  input: Record<string, unknown> | null;
  /** The input it continued as new with, if it did. */
  continuedWith: Record<string, unknown> | null;
  resumed: boolean;
}

/**
 * What the fixtures must hold between them: the incident's paths and every other workflow type.
 * A recapture that loses one fails the replay test, so the set cannot quietly shrink.
 */
export const SCENARIOS: Record<string, (h: CapturedHistory) => boolean> = {
  'remote fix, recovered': (h) => h.steps.some((s) => s.step === 'remote-fix-result' && s.data?.recovered === true) && h.steps.some((s) => s.step === 'verification-started'),
  'remote fix, not recovered → dispatch task': (h) => h.steps.some((s) => s.step === 'remote-fix-result' && s.data?.recovered === false) && h.steps.some((s) => s.step === 'task-created'),
  'dispatch with the field steps (assign, accept, arrive, diagnose, fix)': (h) => ['assign', 'accept', 'arrive', 'diagnose', 'fix'].every((u) => h.updates.has(u)),
  'claimed from the task inbox': (h) => h.updates.has('claim'),
  'acknowledged': (h) => h.updates.has('acknowledge'),
  'pause and resume': (h) => h.updates.has('pause') && h.updates.has('resume'),
  'cancelled': (h) => h.updates.has('cancel'),
  'resolved by a dispatcher': (h) => h.updates.has('resolve'),
  'verified after the window': (h) => h.steps.some((s) => s.step === 'resolved' && s.data?.outcome === 'verified'),
  'verified by a completed session': (h) => h.steps.some((s) => s.step === 'resolved' && s.data?.outcome === 'session-completed'),
  'recurrence during verification': (h) => h.steps.some((s) => s.step === 'recurred'),
  'a fix that waited for the connector to report healthy (verify-when-healthy)': (h) => h.steps.some((s) => s.step === 'verification-waiting'),
  'a priority raised by a more urgent fault (priority-raised-by-a-fault)': (h) => h.steps.some((s) => s.step === 'priority-raised'),
  'a fix that has not taken': (h) => h.steps.some((s) => s.step === 'fix-not-taken'),
  'reopened after resolution': (h) => h.steps.some((s) => s.step === 'reopened'),
  'escalation sent': (h) => h.activities.has('sendEscalation') && h.steps.some((s) => s.step === 'escalated'),
  'escalation refused': (h) => h.steps.some((s) => s.step === 'escalation-failed'),
  'breaches': (h) => h.steps.some((s) => s.step === 'fix-breached'),
  'offline incident': (h) => h.input?.source === 'offline',
  'site incident': (h) => h.workflowId.startsWith('incident:site:'),
  'driver report': (h) => h.input?.source === 'driver-report',
  'continue-as-new (outgrown history)': (h) => h.continuedWith?.resume !== undefined,
  'a run resumed from continue-as-new': (h) => h.resumed,
  'next incident on the connector (continue-as-new after close)': (h) => h.workflowType === 'incidentWorkflow' && h.continuedWith !== null && h.continuedWith.resume === undefined,
  'connectivity watch': (h) => h.workflowType === 'connectivityWatch',
  'connectivity watch that raised an offline fault': (h) => h.workflowType === 'connectivityWatch' && h.activities.has('raiseOfflineFault'),
  'connectivity watch that asks whether our own gateway disconnected the charger (offline-counts-after-our-gateway)': (h) =>
    h.workflowType === 'connectivityWatch' && h.patches.has('offline-counts-after-our-gateway'),
  'charger command': (h) => h.workflowType === 'chargerCommand',
  'settlement approved by an account manager, then sent': (h) => h.workflowType === 'settlementWorkflow' && h.updates.has('approve') && h.activities.has('sendStatement'),
  'settlement of a month already sent, unchanged': (h) =>
    h.workflowType === 'settlementWorkflow' && !h.activities.has('sendStatement') && (h.history.events ?? []).some((e) => e.workflowExecutionCompletedEventAttributes),
  'agreement workflow: months settled, a new version followed, a notice deadline reminded, ended when removed': (h) =>
    h.workflowType === 'agreementWorkflow' && h.activities.has('sendNoticeReminder') && h.signals.has('agreementChanged'),
  'an SLA timer replaced only when its instant moved, here by a pause (sla-timer-kept-until-moved)': (h) => h.patches.has('sla-timer-kept-until-moved') && h.updates.has('pause'),
  'a remote fix that looked the charger up by a local activity (charger-located-locally)': (h) =>
    h.patches.has('charger-located-locally') && h.steps.some((s) => s.step === 'remote-fix-attempt'),
  'projection saved by a scheduled activity (before any projection patch)': (h) => h.activities.has('saveIncident') && h.patches.size === 0,
  // main at baedf3f wrote this marker into every new incident; the patch is deprecated now (deprecatePatch), and those runs must still replay.
  'a run carrying the marker of a patch since deprecated (projection-saved-after-the-task)': (h) => h.patches.has('projection-saved-after-the-task'),
};

/** Every history under `dir`, in its subfolders too (one per capture); `file` is relative to `dir`. */
export function readCaptured(dir = HISTORIES_DIR): CapturedHistory[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => describeHistory(file, readFileSync(path.join(dir, file), 'utf8')));
}

export function describeHistory(file: string, json: string): CapturedHistory {
  const captured = JSON.parse(json) as { workflowId: string; history: { events: Array<Record<string, Record<string, unknown> | undefined>> }; state?: unknown };
  const raw = captured.history;
  const history = historyFromJSON(raw);
  const started = raw.events[0]?.workflowExecutionStartedEventAttributes as { workflowType: { name: string }; input?: { payloads?: unknown[] }; continuedExecutionRunId?: string } | undefined;
  const updates = new Set<string>();
  const signals = new Set<string>();
  const activities = new Set<string>();
  const patches = new Set<string>();
  let continuedWith: Record<string, unknown> | null = null;
  for (const event of raw.events) {
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes as { acceptedRequest?: { input?: { name?: string } } } | undefined;
    if (accepted?.acceptedRequest?.input?.name) updates.add(accepted.acceptedRequest.input.name);
    const signaled = event.workflowExecutionSignaledEventAttributes as { signalName?: string } | undefined;
    if (signaled?.signalName) signals.add(signaled.signalName);
    const scheduled = event.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined;
    if (scheduled?.activityType?.name) activities.add(scheduled.activityType.name);
    const marker = event.markerRecordedEventAttributes as { markerName?: string; details?: Record<string, { payloads?: unknown[] }> } | undefined;
    if (marker?.markerName === 'core_patch') {
      for (const value of decodePayloads(marker.details?.['patch-data']?.payloads)) {
        const { id, deprecated } = (value as { id?: string; deprecated?: boolean } | null) ?? {};
        // A deprecated marker (deprecatePatch) is one the code no longer depends on; kept apart.
        if (typeof id === 'string') patches.add(deprecated ? `${id} (deprecated)` : id);
      }
    }
    const continued = event.workflowExecutionContinuedAsNewEventAttributes as { input?: { payloads?: unknown[] } } | undefined;
    if (continued) continuedWith = (decodePayloads(continued.input?.payloads)[0] as Record<string, unknown> | undefined) ?? {};
  }
  const inputs = decodePayloads(started?.input?.payloads);
  return {
    file,
    workflowId: captured.workflowId,
    workflowType: started?.workflowType.name ?? 'unknown',
    history,
    updates,
    signals,
    activities,
    patches,
    steps: stepsIn([raw, captured.state ?? null]),
    input: (inputs[0] as Record<string, unknown> | undefined) ?? null,
    continuedWith,
    resumed: Boolean(started?.continuedExecutionRunId) && (inputs[0] as { resume?: unknown } | undefined)?.resume !== undefined,
  };
}

/** Every timeline step inside any JSON payload of the history, or in the captured state. */
function stepsIn(raw: unknown): CapturedHistory['steps'] {
  const found: CapturedHistory['steps'] = [];
  const visit = (value: unknown, key: string | null): void => {
    if (Array.isArray(value)) {
      for (const item of value) {
        if ((key === 'steps' || key === 'newSteps') && item && typeof item === 'object' && typeof (item as { step?: unknown }).step === 'string') {
          const { step, data } = item as { step: string; data?: Record<string, unknown> | null };
          found.push({ step, data: data ?? null });
        } else visit(item, null);
      }
    } else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (Array.isArray(record.payloads)) for (const decoded of decodePayloads(record.payloads)) visit(decoded, null);
      for (const [k, v] of Object.entries(record)) if (k !== 'payloads') visit(v, k);
    }
  };
  visit(raw, null);
  return found;
}

function decodePayloads(payloads: unknown[] | undefined): unknown[] {
  return (payloads ?? []).map((p) => {
    const { metadata, data } = p as { metadata?: { encoding?: string }; data?: string };
    if (!data || !metadata?.encoding || Buffer.from(metadata.encoding, 'base64').toString() !== 'json/plain') return null;
    try {
      return JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    } catch {
      return null;
    }
  });
}
