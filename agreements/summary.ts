import type { Agreement } from '../contracts/agreement.js';

/** A readable summary of an agreement for `concierge contracts show`. */
export function summariseAgreement(a: Agreement): string {
  const party = (key: string) => a.parties[key]?.name ?? key;
  const chargers = a.sites.flatMap((s) => s.chargers);
  const lines = [
    `${a.name} (${a.id})`,
    `  service model     ${a.serviceModel}`,
    `  term              ${a.term.start} → ${a.term.end ?? 'open-ended'}, renewal ${a.term.renewal}, notice ${a.term.noticePeriodDays} days`,
    '',
    'Parties',
    ...Object.entries(a.ownership).map(([role, key]) => `  ${role.padEnd(18)}${party(key)}`),
    '',
    `Sites (${a.sites.length}, ${chargers.length} chargers, ${chargers.reduce((n, c) => n + c.connectors, 0)} ports)`,
    ...a.sites.flatMap((s) => [
      `  ${s.name} — ${s.address} [${s.timeZone}], operating hours: ${s.operatingHours}`,
      ...s.chargers.map((c) => `    ${c.id.padEnd(14)}${c.model}, ${c.connectors} connector${c.connectors > 1 ? 's' : ''}`),
    ]),
    '',
    'SLA targets',
    ...Object.entries(a.sla.targets).map(([p, t]) => `  ${p}  respond within ${t.respondWithin.padEnd(5)} fix within ${t.fixWithin.padEnd(5)} on ${t.calendar}`),
    `  uptime ≥ ${a.sla.uptime.targetPercent}% per port, excluding ${a.sla.uptime.excludedCauses.join(', ') || 'nothing'}`,
    `  verification window ${a.sla.verificationWindow}; clocks pause for ${a.sla.pauseReasons.join(', ') || 'nothing'}`,
    '',
    'Incidents',
    ...a.incidents.faultClasses.map((fc) => {
      const match = [...(fc.match.ocppErrorCodes ?? []), ...(fc.match.techCodes ?? []), ...(fc.match.events ?? []).map((e) => `<${e}>`)];
      return `  ${fc.priority} ${fc.name.padEnd(18)}${match.join(', ')}${fc.remoteFix ? '  (remote fix first)' : ''}`;
    }),
    `  offline after ${a.incidents.offlineGracePeriod}; flapping window ${a.incidents.flappingWindow}; whole site down at ${a.incidents.wholeSiteDown.offlinePercentAtLeast}% offline → ${a.incidents.wholeSiteDown.priority}`,
    '',
    'Escalation',
    ...a.escalation.map((l) => `  ${l.level}. ${describeTrigger(l.trigger)} → ${l.contacts.map((c) => `${c.name} <${c.email}>`).join(', ')}${l.repeatEvery ? `, repeat every ${l.repeatEvery}` : ''}`),
    '',
    'Warranty and connectivity',
    `  pays for hardware faults: ${party(a.warranty.paidBy.hardware)}; installation faults: ${party(a.warranty.paidBy.installation)}; misuse: ${party(a.warranty.paidBy.misuse)}`,
    ...a.warranty.vendorWarranty.map((w) => `  vendor warranty ${w.model}: ${w.months} months`),
    `  SIM/data plan: ${party(a.connectivity.simDataPlan)}; router: ${party(a.connectivity.router)}; Wi-Fi credentials: ${party(a.connectivity.wifiCredentials)}`,
    '',
    'Pricing and settlement',
    `  service fee ${a.pricing.currency} ${a.pricing.serviceFeePerChargerMonthly} per charger per month; VAT ${a.pricing.vatPercent}%`,
    `  driver tariffs: ${a.pricing.driverTariffs.map(describeTariff).join('; ')} (access: ${a.pricing.access})`,
    `  payment processing ${a.pricing.paymentProcessingFeePercent}%, venue revenue share ${a.pricing.venueRevenueSharePercent}%, energy pass-through ${a.pricing.currency} ${a.pricing.energyCostPassThroughPerKwh}/kWh`,
    `  statement on day ${a.settlement.dayOfMonth} to ${a.settlement.recipients.join(', ')}${a.settlement.approvalBeforeSending ? ', after approval' : ''}`,
    `  SLA credits (cap ${[a.credits.capPercentOfFee !== undefined ? `${a.credits.capPercentOfFee}% of fee` : null, a.credits.capAmount !== undefined ? `${a.credits.capAmount} a month` : null].filter(Boolean).join(', at most ')}): ${a.credits.rules.map(describeCredit).join('; ') || 'none'}`,
    '',
    'Data access',
    ...Object.entries(a.dataAccess).map(([key, access]) => `  ${party(key).padEnd(32)}${(['sessions', 'reports', 'export'] as const).filter((k) => access[k]).join(', ') || 'nothing'}`),
    '',
    `Preventive maintenance every ${a.maintenance.intervalDays} days: ${a.maintenance.checklist.join('; ')}`,
  ];
  return lines.join('\n');
}

function describeTrigger(t: Agreement['escalation'][number]['trigger']): string {
  switch (t.kind) {
    case 'response-elapsed':
      return `${t.percent}% of response time elapsed`;
    case 'fix-elapsed':
      return `${t.percent}% of fix time elapsed`;
    case 'response-breached':
      return 'response breached';
    case 'fix-breached':
      return 'fix breached';
    case 'unacknowledged-for':
      return `not acknowledged within ${t.after}`;
  }
}

/** A tariff in one line: its validity, then each element's components and restrictions. */
function describeTariff(t: Agreement['pricing']['driverTariffs'][number]): string {
  const unit = { ENERGY: '/kWh', TIME: '/h charging', PARKING_TIME: '/h parked', FLAT: ' per session' } as const;
  const elements = t.elements.map((e) => {
    const parts = e.price_components.map((c) => `${c.price}${unit[c.type]}${c.vat === undefined ? '' : ` +${c.vat}% VAT`}`).join(', ');
    const when = Object.entries(e.restrictions ?? {}).map(([key, value]) => `${key} ${Array.isArray(value) ? value.join('/') : String(value)}`);
    return when.length ? `${parts} (${when.join(', ')})` : parts;
  });
  const valid = [t.start_date_time && `from ${t.start_date_time}`, t.end_date_time && `until ${t.end_date_time}`].filter(Boolean).join(' ');
  return `${t.id}${valid ? ` [${valid}]` : ''}: ${elements.join(' | ')}`;
}

function describeCredit(r: Agreement['credits']['rules'][number]): string {
  const when = r.when.kind === 'uptime-below' ? `uptime < ${r.when.percent}%` : `≥ ${r.when.count} ${r.when.clock} breaches`;
  const credit = 'percentOfFee' in r.credit ? `${r.credit.percentOfFee}% of fee` : `${r.credit.fixedAmount}`;
  return `${when} → ${credit}`;
}
