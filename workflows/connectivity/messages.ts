import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ConnectivityChange } from '../../contracts/connectivity.js';

/** What reaches a connectivity watch: the charger's socket closing and opening (the outbox relay), and the query of its state. */
export const chargerDisconnected = defineSignal<[ConnectivityChange]>('disconnected');
export const chargerConnected = defineSignal<[ConnectivityChange]>('connected');
export const connectivityQuery = defineQuery<{ online: boolean; offlineSince: string | null; incidentRaised: boolean }>('connectivity');
