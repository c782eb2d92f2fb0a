/** Incident priorities, P1 most urgent. */
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface FaultAssessment {
  priority: Priority;
}

/**
 * Whether a connector status report is a fault that needs an incident.
 * `Faulted` is a fault (P1 for connector 0, the whole charger; P2 for one connector). Another
 * status carrying an error code is a warning (P3), except EVCommunicationError, which is the
 * vehicle's problem, not the charger's. Agreements refine this with their own fault classes.
 */
export function assessConnectorStatus(connectorId: number, status: string, errorCode: string | null): FaultAssessment | null {
  if (status === 'Faulted') return { priority: connectorId === 0 ? 'P1' : 'P2' };
  if (errorCode && errorCode !== 'NoError' && errorCode !== 'EVCommunicationError') return { priority: 'P3' };
  return null;
}
