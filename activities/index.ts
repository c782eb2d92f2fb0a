import type { Db } from '../db/connect.js';
import { createConnectivityActivities } from './connectivity.js';
import { createIncidentActivities } from './incidents.js';

/** Every activity the worker registers, bound to its dependencies. */
export function createActivities(db: Db) {
  return { ...createIncidentActivities(db), ...createConnectivityActivities(db) };
}
