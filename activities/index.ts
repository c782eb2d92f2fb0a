import type { Db } from '../db/connect.js';
import type { Mailer } from '../platform/mailer.js';
import { createAgreementActivities } from './agreement.js';
import { createChargerActivities } from './chargers.js';
import { createConnectivityActivities } from './connectivity.js';
import { failingPermanentlyOnRefusedData } from './database-failures.js';
import { createIncidentActivities } from './incidents.js';
import { createNotificationActivities } from './notifications.js';
import { createSettlementActivities } from './settlement.js';

/**
 * Every activity the worker registers, bound to its dependencies; data the database refuses for good
 * is not retried. `now` is the clock of settlement's "has the month ended" (the time-skipping tests' server time).
 */
export function createActivities(db: Db, { mailer, now = () => Promise.resolve(new Date()) }: { mailer: Mailer; now?: () => Promise<Date> }) {
  return failingPermanentlyOnRefusedData({
    ...createIncidentActivities(db),
    ...createConnectivityActivities(db),
    ...createChargerActivities(db),
    ...createNotificationActivities(db, mailer),
    ...createSettlementActivities(db, mailer, { now }),
    ...createAgreementActivities(db, mailer),
  });
}
