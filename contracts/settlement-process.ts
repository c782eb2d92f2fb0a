import type { Actor } from './incident.js';

/** What the settlement workflow (`settlement:<agreement>:<yyyy-mm>`) is doing, as its query and the API show it. */
export interface SettlementState {
  agreementId: string;
  month: string;
  status: 'issuing' | 'unchanged' | 'awaiting-approval' | 'sending' | 'sent';
  statementId: string | null;
  revision: number | null;
  noteId: string | null;
  approvedBy: string | null;
}

export interface SettlementInput {
  agreementId: string;
  month: string;
}

export interface ApproveRequest {
  actor: Actor;
  statementId: string;
}

export const settlementWorkflowId = (agreementId: string, month: string) => `settlement:${agreementId}:${month}`;
