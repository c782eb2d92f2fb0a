/** Response and fix targets of an incident, in milliseconds of wall-clock time. */
export interface SlaTargets {
  respondWithinMs: number;
  fixWithinMs: number;
}

export interface SlaDeadlines {
  respondBy: Date;
  fixBy: Date;
}

/** respondBy = openedAt + response target; fixBy = openedAt + fix target (24/7 calendar). */
export function slaDeadlines(openedAt: Date, targets: SlaTargets): SlaDeadlines {
  return {
    respondBy: new Date(openedAt.getTime() + targets.respondWithinMs),
    fixBy: new Date(openedAt.getTime() + targets.fixWithinMs),
  };
}
