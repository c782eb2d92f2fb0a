/**
 * Who uses Concierge and what each may do. The API's route guards, the incident workflow's step
 * validators (through the table of human steps) and the console read these lists: a role's powers
 * change here and nowhere else.
 */
export const ROLES = ['account-manager', 'dispatcher', 'technician', 'venue'] as const;
/** A person's role, as their token carries it. */
export type Role = (typeof ROLES)[number];
/** Who took a step: a person, or Concierge itself (clocks, charger reports). */
export type ActorRole = Role | 'system';

/** The operator's people: they work chargers and incidents (venues only read their own). */
export const STAFF = ['account-manager', 'dispatcher', 'technician'] as const satisfies readonly Role[];
/** The service desk: assigns, cancels and closes incidents, registers chargers. */
export const DESK = ['account-manager', 'dispatcher'] as const satisfies readonly Role[];
/** The field crew: what only the person going to the charger does (claim, accept, arrive). */
export const FIELD = ['technician'] as const satisfies readonly Role[];

/** What each role may do beyond incident steps (those are in contracts/incident-steps.ts). */
export const MAY = {
  /** Issue tokens (people's access). */
  issueTokens: ['account-manager'],
  /** See who holds access, within their own scope. */
  seeAccess: DESK,
  /** Register chargers. */
  registerChargers: DESK,
  /** Commission chargers, send them commands, upload photos, report problems by hand. */
  workChargers: STAFF,
  /** Settle a month on demand, and approve a statement before it is sent. */
  settleAccounts: ['account-manager'],
} as const satisfies Record<string, readonly Role[]>;
