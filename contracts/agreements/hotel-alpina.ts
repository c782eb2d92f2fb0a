import { defineAgreement } from '../agreement.js';

/** A ski hotel that bought its chargers turnkey from an installer, who also runs operations & maintenance. */
export default defineAgreement({
  id: 'hotel-alpina',
  name: 'Hotel Alpina — turnkey installation with O&M',
  serviceModel: 'turnkey-om',
  parties: {
    alpina: { name: 'Hotel Alpina AG', contact: { name: 'Sabine Gruber', email: 'facilities@hotel-alpina.example', phone: '+43 5356 12345' } },
    voltwerk: { name: 'Voltwerk Installations GmbH', contact: { name: 'Service desk', email: 'service@voltwerk.example', phone: '+43 512 998877' } },
    chargeops: { name: 'ChargeOps Concierge', contact: { name: 'NOC', email: 'noc@chargeops.example' } },
  },
  ownership: { hardwareOwner: 'alpina', cpmsContractOwner: 'alpina', operator: 'chargeops', venue: 'alpina', installer: 'voltwerk' },
  sites: [
    {
      id: 'alpina-kitzbuehel',
      name: 'Hotel Alpina, guest car park',
      address: 'Hahnenkammstraße 1, 6370 Kitzbühel, Austria',
      timeZone: 'Europe/Vienna',
      operatingHours: 'always',
      chargers: [
        { id: 'ALPINA-01', model: 'Alfen Eve Double Pro-line', connectors: 2 },
        { id: 'ALPINA-02', model: 'Alfen Eve Double Pro-line', connectors: 2 },
        { id: 'ALPINA-03', model: 'Alfen Eve Single S-line', connectors: 1 },
      ],
    },
  ],
  calendars: {
    always: { alwaysOpen: true },
    'service-hours': {
      weekly: {
        mon: [{ from: '07:00', to: '19:00' }],
        tue: [{ from: '07:00', to: '19:00' }],
        wed: [{ from: '07:00', to: '19:00' }],
        thu: [{ from: '07:00', to: '19:00' }],
        fri: [{ from: '07:00', to: '19:00' }],
        sat: [{ from: '08:00', to: '14:00' }],
      },
      // Austrian public holidays 2026.
      holidays: ['2026-01-01', '2026-01-06', '2026-04-06', '2026-05-01', '2026-05-14', '2026-05-25', '2026-06-04', '2026-08-15', '2026-10-26', '2026-11-01', '2026-12-08', '2026-12-25', '2026-12-26'],
    },
  },
  incidents: {
    faultClasses: [
      { name: 'charger-down', match: { events: ['offline'] }, priority: 'P1', remoteFix: false },
      { name: 'electrical', match: { ocppErrorCodes: ['GroundFailure', 'OverCurrentFailure', 'OverVoltage', 'UnderVoltage', 'PowerSwitchFailure', 'HighTemperature'] }, priority: 'P2', remoteFix: false },
      { name: 'controller', match: { ocppErrorCodes: ['InternalError', 'OtherError', 'ResetFailure', 'PowerMeterFailure'], techCodes: ['CX001', 'CX002'] }, priority: 'P2', remoteFix: true },
      { name: 'peripheral', match: { ocppErrorCodes: ['ReaderFailure', 'ConnectorLockFailure', 'WeakSignal', 'LocalListConflict'] }, priority: 'P3', remoteFix: true },
      { name: 'driver-report', match: { events: ['driver-report'] }, priority: 'P3', remoteFix: true },
      { name: 'maintenance', match: { events: ['maintenance-finding'] }, priority: 'P4', remoteFix: false },
    ],
    offlineGracePeriod: '15m',
    flappingWindow: '10m',
    wholeSiteDown: { offlinePercentAtLeast: 100, priority: 'P1' },
  },
  sla: {
    targets: {
      P1: { respondWithin: '1h', fixWithin: '8h', calendar: 'always' },
      P2: { respondWithin: '2h', fixWithin: '24h', calendar: 'service-hours' },
      P3: { respondWithin: '4h', fixWithin: '3d', calendar: 'service-hours' },
      P4: { respondWithin: '1d', fixWithin: '10d', calendar: 'service-hours' },
    },
    retroactiveStartUpTo: '30m',
    pauseReasons: ['venue-access', 'parts'],
    verificationWindow: '30m',
    uptime: { targetPercent: 97, excludedCauses: ['utility', 'vandalism', 'scheduled-maintenance', 'vehicle'], caps: { vandalismDaysPerEvent: 10, scheduledMaintenanceHoursPerYear: 72 } },
  },
  escalation: [
    { level: 1, trigger: { kind: 'unacknowledged-for', after: '30m' }, contacts: [{ name: 'ChargeOps NOC', email: 'noc@chargeops.example', phone: '+43 1 2345678' }], repeatEvery: '30m' },
    { level: 2, trigger: { kind: 'fix-elapsed', percent: 75 }, contacts: [{ name: 'Voltwerk service lead', email: 'lead@voltwerk.example' }] },
    { level: 3, trigger: { kind: 'fix-breached' }, contacts: [{ name: 'Sabine Gruber', email: 'facilities@hotel-alpina.example' }, { name: 'ChargeOps account manager', email: 'am@chargeops.example' }] },
  ],
  warranty: {
    paidBy: { hardware: 'voltwerk', installation: 'voltwerk', misuse: 'alpina' },
    vendorWarranty: [
      { model: 'Alfen Eve Double Pro-line', months: 24 },
      { model: 'Alfen Eve Single S-line', months: 24 },
    ],
  },
  connectivity: { simDataPlan: 'chargeops', router: 'alpina', wifiCredentials: 'alpina' },
  pricing: {
    currency: 'EUR',
    serviceFeePerChargerMonthly: '39.00',
    // 0.49 per kWh; parking after the first hour plugged in 6.00 per hour (0.10 per minute), billed per minute.
    driverTariffs: [
      {
        country_code: 'AT',
        party_id: 'CHO',
        id: 'alpina-public',
        currency: 'EUR',
        type: 'REGULAR',
        tariff_alt_text: [{ language: 'en', text: 'Energy per kWh; after 60 minutes plugged in, idle time not charging is billed per minute.' }],
        elements: [
          { price_components: [{ type: 'PARKING_TIME', price: 6.0, vat: 20, step_size: 60 }], restrictions: { min_duration: 3600 } },
          { price_components: [{ type: 'ENERGY', price: 0.49, vat: 20, step_size: 1 }] },
        ],
        last_updated: '2026-01-01T00:00:00Z',
      },
    ],
    access: 'public',
    voucherCodes: [{ code: 'ALPINA-GUEST', discountPercent: 100 }],
    paymentProcessingFeePercent: 2.5,
    venueRevenueSharePercent: 100,
    energyCostPassThroughPerKwh: '0.00',
    vatPercent: 20,
  },
  settlement: { dayOfMonth: 5, recipients: ['accounting@hotel-alpina.example'], approvalBeforeSending: true },
  credits: {
    rules: [
      { when: { kind: 'uptime-below', percent: 97 }, credit: { percentOfFee: 10 } },
      { when: { kind: 'uptime-below', percent: 95 }, credit: { percentOfFee: 25 } },
      { when: { kind: 'breaches-at-least', clock: 'fix', count: 2 }, credit: { fixedAmount: '50.00' } },
    ],
    capPercentOfFee: 50,
  },
  dataAccess: {
    alpina: { sessions: true, reports: true, export: true },
    voltwerk: { sessions: false, reports: true, export: false },
    chargeops: { sessions: true, reports: true, export: true },
  },
  maintenance: { intervalDays: 182, checklist: ['Visual inspection of housing and cables', 'RCD test', 'Tighten terminals', 'Firmware up to date', 'Test charge with a vehicle'] },
  term: { start: '2026-01-01', end: '2028-12-31', renewal: 'auto-yearly', noticePeriodDays: 90 },
});
