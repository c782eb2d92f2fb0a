import type { Agreement } from '../contracts/agreement.js';
import { chargingPeriods, issueCdr, type Reading, type RecordedSession, type SessionRecordings } from '../contracts/cdr.js';
import { money } from '../contracts/money.js';
import { decimalJson, tariffAt } from '../contracts/tariff.js';
import type { Decimal } from 'decimal.js';
import type { Insertable } from 'kysely';
import type { Db } from '../db/connect.js';
import type { CdrsTable } from '../db/schema.js';

const REGISTER = 'Energy.Active.Import.Register';
const POWER = 'Power.Active.Import';
const CURRENT = 'Current.Import';

/**
 * Prices ended sessions that have no CDR yet, oldest end first, a batch at a time: each under the
 * agreement version in force at its start and the tariff valid then, from its meter values and
 * connector statuses (contracts/cdr.ts). Safe to run anywhere and twice — a session's first CDR is
 * inserted once (its unique revision 1), whoever prices it. Sessions on chargers no agreement
 * covers have nothing to settle and are not priced. Returns how many sessions it priced: 0 when
 * none was left (with `skipLocked`: none that another pricer is not pricing at this moment).
 */
export async function priceEndedSessions(db: Db, options: PricingOptions = {}): Promise<number> {
  // One transaction a batch: the sessions it takes stay locked until their CDRs are in. Background
  // pricers (`skipLocked`) pass over each other's, so no work is done twice; a settlement waits for
  // them instead, so that the month it adds up is whole.
  return db.transaction().execute((trx) => priceBatch(trx, options));
}

interface PricingOptions {
  limit?: number;
  endedBefore?: Date;
  issuedAt?: Date;
  /** Pass over sessions another pricer is pricing now, rather than wait for it. */
  skipLocked?: boolean;
}

async function priceBatch(db: Db, options: PricingOptions): Promise<number> {
  const sessions = await db
    .selectFrom('sessions as s')
    .innerJoin('agreementChargers as ac', 'ac.chargerId', 's.chargerId')
    .select(['s.id', 's.chargerId', 's.connectorId', 's.idTag', 's.startedAt', 's.endedAt', 's.meterStartWh', 's.meterStopWh', 's.meterLastWh', 'ac.agreementId', 'ac.siteId'])
    // sessions_to_price_idx: only ended sessions without a CDR, in the order they ended.
    .where('s.status', '=', 'ended')
    .where('s.pricedAt', 'is', null)
    .$if(options.endedBefore !== undefined, (q) => q.where('s.endedAt', '<', options.endedBefore!))
    .orderBy('s.endedAt')
    .orderBy('s.id')
    .limit(options.limit ?? 500)
    .forUpdate('s')
    .$if(options.skipLocked === true, (q) => q.skipLocked())
    .execute();
  if (sessions.length === 0) return 0;

  const versions = await db
    .selectFrom('agreementVersions')
    .select(['agreementId', 'version', 'effectiveFrom', 'content'])
    .where('agreementId', 'in', [...new Set(sessions.map((s) => s.agreementId))])
    .orderBy('version')
    .execute();
  /** The version in force at an instant: the last that took effect by then, else the first. */
  const versionAt = (agreementId: string, at: Date) => {
    const all = versions.filter((v) => v.agreementId === agreementId);
    return all.filter((v) => v.effectiveFrom <= at).at(-1) ?? all[0]!;
  };

  // Each session's meter samples and statuses: an index range each, read per session by a lateral
  // join. A plain join — or a lateral one, which the planner flattens into the same — hashed the
  // whole status log once it held a million rows (350 ms a batch, against 26 ms); `offset 0` keeps
  // the subquery a subquery.
  const ids = sessions.map((s) => s.id);
  const [samples, statuses] = await Promise.all([
    db
      .selectFrom('sessions as s')
      .innerJoinLateral(
        (eb) =>
          eb
            .selectFrom('meterSamples as m')
            .select(['m.sampledAt', 'm.measurand', 'm.phase', 'm.location', 'm.unit', 'm.value'])
            .whereRef('m.chargerId', '=', 's.chargerId')
            .whereRef('m.connectorId', '=', 's.connectorId')
            .whereRef('m.sampledAt', '>=', 's.startedAt')
            .whereRef('m.sampledAt', '<=', 's.endedAt')
            .where('m.measurand', 'in', [REGISTER, POWER, CURRENT])
            .offset(0)
            .as('m'),
        (join) => join.onTrue(),
      )
      .select(['s.id as sessionId', 'm.sampledAt', 'm.measurand', 'm.phase', 'm.location', 'm.unit', 'm.value'])
      .where('s.id', 'in', ids)
      .execute(),
    db
      .selectFrom('sessions as s')
      .innerJoinLateral(
        (eb) =>
          eb
            .selectFrom('statusLog as l')
            .select(['l.reportedAt', 'l.status'])
            .whereRef('l.chargerId', '=', 's.chargerId')
            .whereRef('l.connectorId', '=', 's.connectorId')
            .whereRef('l.reportedAt', '>=', 's.startedAt')
            .whereRef('l.reportedAt', '<=', 's.endedAt')
            .offset(0)
            .as('l'),
        (join) => join.onTrue(),
      )
      .select(['s.id as sessionId', 'l.reportedAt', 'l.status'])
      .where('s.id', 'in', ids)
      .execute(),
  ]);
  const samplesOf = bySession(samples);
  const statusesOf = bySession(statuses);

  const issuedAt = options.issuedAt ?? new Date();
  const rows = sessions.map((s) => {
    const version = versionAt(s.agreementId, s.startedAt);
    const agreement = version.content as Agreement;
    const site = agreement.sites.find((x) => x.id === s.siteId) ?? agreement.sites[0]!;
    const session: RecordedSession = {
      id: s.id,
      chargerId: s.chargerId,
      connectorId: s.connectorId,
      idTag: s.idTag,
      startedAt: s.startedAt,
      endedAt: s.endedAt ?? s.startedAt,
      meterStartWh: s.meterStartWh === null ? null : money(s.meterStartWh),
      meterStopWh: (s.meterStopWh ?? s.meterLastWh) === null ? null : money((s.meterStopWh ?? s.meterLastWh)!),
    };
    const recordings = recordingsOf(samplesOf.get(s.id) ?? [], statusesOf.get(s.id) ?? []);
    const tariff = tariffAt(agreement.pricing.driverTariffs, session.startedAt);
    const party = tariff ?? agreement.pricing.driverTariffs[0]!;
    const voucher = s.idTag ? (agreement.pricing.voucherCodes.find((v) => v.code.toUpperCase() === s.idTag!.toUpperCase()) ?? null) : null;
    const periods = chargingPeriods(session, recordings, tariff, site.timeZone);
    const cdrId = `CDR-${s.id}`;
    const issued = issueCdr(session, periods, {
      countryCode: party.country_code,
      partyId: party.party_id,
      currency: agreement.pricing.currency,
      location: { id: site.id, name: site.name, address: site.address, timeZone: site.timeZone },
      agreement: { id: agreement.id, version: version.version },
      tariff,
      voucher,
      issuedAt,
      cdrId,
    });
    const amount = (price: { excl_vat: Decimal; incl_vat: Decimal } | undefined) => [price?.excl_vat.toFixed() ?? '0', price?.incl_vat.toFixed() ?? '0'] as const;
    const [fixedCostExclVat, fixedCostInclVat] = amount(issued.prices?.total_fixed_cost);
    const [energyCostExclVat, energyCostInclVat] = amount(issued.prices?.total_energy_cost);
    const [timeCostExclVat, timeCostInclVat] = amount(issued.prices?.total_time_cost);
    const [parkingCostExclVat, parkingCostInclVat] = amount(issued.prices?.total_parking_cost);
    const [listPriceExclVat, listPriceInclVat] = amount(issued.prices?.total_cost);
    const row: Insertable<CdrsTable> = {
      id: cdrId,
      sessionId: s.id,
      revision: 1,
      creditReferenceId: null,
      chargerId: s.chargerId,
      connectorId: s.connectorId,
      agreementId: agreement.id,
      agreementVersion: version.version,
      siteId: site.id,
      tariffId: tariff?.id ?? null,
      currency: agreement.pricing.currency,
      voucherCode: voucher?.code ?? null,
      startDateTime: session.startedAt,
      endDateTime: session.endedAt,
      totalEnergy: issued.totals.energyKwh.toFixed(),
      totalTime: issued.totals.hours.toFixed(),
      totalParkingTime: issued.totals.parkingHours.toFixed(),
      totalCostExclVat: issued.payable.exclVat.toFixed(),
      totalCostInclVat: issued.payable.inclVat.toFixed(),
      listPriceExclVat,
      listPriceInclVat,
      fixedCostExclVat,
      fixedCostInclVat,
      energyCostExclVat,
      energyCostInclVat,
      timeCostExclVat,
      timeCostInclVat,
      parkingCostExclVat,
      parkingCostInclVat,
      document: decimalJson(issued.document, 0),
      issuedAt,
    };
    return row;
  });
  // The CDRs and the sessions' mark, in the batch's transaction. A CDR already there (issued before
  // priced_at existed) is kept.
  await db
    .insertInto('cdrs')
    .values(rows)
    .onConflict((oc) => oc.columns(['sessionId', 'revision', 'credit']).doNothing())
    .execute();
  await db.updateTable('sessions').set({ pricedAt: issuedAt }).where('id', 'in', ids).execute();
  return sessions.length;
}

function bySession<T extends { sessionId: string }>(rows: T[]): Map<string, T[]> {
  const grouped = new Map<string, T[]>();
  for (const row of rows) {
    const list = grouped.get(row.sessionId);
    if (list) list.push(row);
    else grouped.set(row.sessionId, [row]);
  }
  return grouped;
}

interface SampleRow {
  sampledAt: Date;
  measurand: string;
  phase: string;
  location: string;
  unit: string | null;
  value: string;
}

/** A session's meter samples and statuses as the CDR builder reads them: register in Wh, power in kW, current summed over phases. */
function recordingsOf(samples: SampleRow[], statuses: { reportedAt: Date; status: string }[]): SessionRecordings {
  const register: Reading[] = samples
    .filter((x) => x.measurand === REGISTER && x.phase === '' && (x.location === '' || x.location === 'Outlet'))
    .map((x) => ({ at: x.sampledAt, value: x.unit === 'kWh' ? money(x.value).times(1000) : money(x.value) }));
  const power: Reading[] = samples
    .filter((x) => x.measurand === POWER && x.phase === '')
    .map((x) => ({ at: x.sampledAt, value: x.unit === 'kW' ? money(x.value) : money(x.value).div(1000) }));
  // Current: the total when the charger sent one, else the sum of its phases at that moment.
  const byInstant = new Map<number, { total?: Reading; phases: Reading[] }>();
  for (const x of samples.filter((s) => s.measurand === CURRENT)) {
    const entry = byInstant.get(x.sampledAt.getTime()) ?? { phases: [] };
    const reading = { at: x.sampledAt, value: money(x.value) };
    if (x.phase === '') entry.total = reading;
    else if (/^L\d$/.test(x.phase)) entry.phases.push(reading);
    byInstant.set(x.sampledAt.getTime(), entry);
  }
  const current = [...byInstant.values()].flatMap((e) => (e.total ? [e.total] : e.phases.length ? [{ at: e.phases[0]!.at, value: e.phases.reduce((s, p) => s.plus(p.value), money(0)) }] : []));
  return { registers: register, power, current, statuses: statuses.map((x) => ({ at: x.reportedAt, status: x.status })) };
}

/**
 * The CDR pricer of a worker process: prices ended sessions as they come (every `intervalMs`, in
 * batches until none is left), so each session has its CDR moments after it ends — and, since it
 * reads what is in the database, also after a crash or a restart. Several processes may run it.
 * `concurrency` batches run at once: on PostgreSQL, while one batch is priced in this process the
 * database writes another's CDRs, so two use both cores (docs/benchmarks.md, "Settlement").
 */
export function startCdrPricer({ db, log, intervalMs = 5_000, concurrency = 1 }: { db: Db; log: { warn(obj: object, msg: string): void }; intervalMs?: number; concurrency?: number }) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const drain = async () => {
    while (!stopped && (await priceEndedSessions(db, { skipLocked: true })) > 0);
  };
  const round = async () => {
    try {
      await Promise.all(Array.from({ length: concurrency }, drain));
    } catch (error) {
      log.warn({ err: error }, 'pricing ended sessions failed; trying again shortly');
    }
    if (!stopped) timer = setTimeout(() => (running = round()), intervalMs);
  };
  running = round();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export class CdrNotCreditable extends Error {}

/** A CDR's money columns: a credit CDR negates each. */
const CDR_MONEY_COLUMNS = (['totalCost', 'listPrice', 'fixedCost', 'energyCost', 'timeCost', 'parkingCost'] as const).flatMap((m) => [`${m}ExclVat`, `${m}InclVat`] as const);

/**
 * Credits a CDR: the session is not charged after all (a test, a duplicate, a refund granted to the
 * driver). The CDR itself never changes; a credit CDR (OCPI's `credit`, `credit_reference_id`)
 * with every amount negated is issued beside it, and the month's settlement counts the session no
 * more — re-settling a month already issued gives revision n+1 and a note. A CDR is credited once;
 * a credit CDR is not credited. Returns the credit CDR's id, or null for an unknown CDR.
 */
export async function creditCdr(db: Db, { cdrId, reason, issuedAt = new Date() }: { cdrId: string; reason: string; issuedAt?: Date }): Promise<string | null> {
  return db.transaction().execute(async (trx) => {
    const cdr = await trx.selectFrom('cdrs').selectAll().where('id', '=', cdrId).executeTakeFirst();
    if (!cdr) return null;
    if (cdr.credit) throw new CdrNotCreditable(`${cdrId} is a credit CDR itself`);
    const negate = (amount: string) => money(amount).negated().toFixed();
    const creditId = `${cdrId}-CREDIT`;
    const original = JSON.parse(cdr.document) as Record<string, unknown> & Partial<Record<`total_${'cost' | 'fixed_cost' | 'energy_cost' | 'time_cost' | 'parking_cost'}`, { excl_vat: string; incl_vat?: string }>>;
    // JSON.parse gives prices as numbers; their shortest text is the decimal written (decimalJson wrote it).
    const negatedPrice = (price: { excl_vat: string; incl_vat?: string } | undefined) => price && { excl_vat: money(String(price.excl_vat)).negated(), ...(price.incl_vat === undefined ? {} : { incl_vat: money(String(price.incl_vat)).negated() }) };
    const document = {
      ...original,
      id: creditId,
      credit: true,
      credit_reference_id: cdrId,
      ...Object.fromEntries((['total_cost', 'total_fixed_cost', 'total_energy_cost', 'total_time_cost', 'total_parking_cost'] as const).filter((k) => original[k]).map((k) => [k, negatedPrice(original[k])])),
      remark: reason,
      last_updated: issuedAt.toISOString(),
    };
    const inserted = await trx
      .insertInto('cdrs')
      .values({
        ...cdr,
        id: creditId,
        credit: true,
        creditReferenceId: cdrId,
        ...(Object.fromEntries(CDR_MONEY_COLUMNS.map((column) => [column, negate(cdr[column])])) as Record<(typeof CDR_MONEY_COLUMNS)[number], string>),
        document: decimalJson(document, 0),
        issuedAt,
      })
      .onConflict((oc) => oc.columns(['sessionId', 'revision', 'credit']).doNothing())
      .returning('id')
      .execute();
    if (inserted.length === 0) throw new CdrNotCreditable(`${cdrId} is credited already (${creditId})`);
    return creditId;
  });
}
