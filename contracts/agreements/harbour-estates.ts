import { defineAgreement } from '../agreement.js';

/** A landlord's portfolio of office and residential car parks on a managed service, with a night-shift field team. */
export default defineAgreement({
  id: 'harbour-estates',
  name: 'Harbour Estates portfolio — managed service',
  serviceModel: 'managed-service',
  parties: {
    harbour: { name: 'Harbour Estates Inc.', contact: { name: 'Asset management', email: 'assets@harbour-estates.example' } },
    metrocharge: { name: 'MetroCharge Services LLC', contact: { name: 'Service desk', email: 'desk@metrocharge.example', phone: '+1 212 555 0100' } },
    tenant: { name: 'Harbour Point tenants association', contact: { name: 'Board', email: 'board@harbourpoint.example' } },
  },
  ownership: { hardwareOwner: 'harbour', cpmsContractOwner: 'metrocharge', operator: 'metrocharge', venue: 'harbour', installer: 'metrocharge' },
  sites: [
    {
      id: 'harbour-point',
      name: 'Harbour Point residential garage',
      address: '200 Water Street, New York, NY 10038, USA',
      timeZone: 'America/New_York',
      operatingHours: 'always',
      chargers: [
        { id: 'HP-G1-01', model: 'ChargePoint CPF50', connectors: 1 },
        { id: 'HP-G1-02', model: 'ChargePoint CPF50', connectors: 1 },
      ],
    },
    {
      id: 'harbour-plaza',
      name: 'Harbour Plaza office car park',
      address: '1 Harbour Plaza, Jersey City, NJ 07311, USA',
      timeZone: 'America/New_York',
      operatingHours: 'office-hours',
      chargers: [
        { id: 'HPL-L2-01', model: 'Enel X JuiceBox Pro 40', connectors: 1 },
        { id: 'HPL-L2-02', model: 'Enel X JuiceBox Pro 40', connectors: 1 },
        { id: 'HPL-L2-03', model: 'Enel X JuiceBox Pro 40', connectors: 1 },
      ],
    },
  ],
  calendars: {
    always: { alwaysOpen: true },
    'office-hours': {
      weekly: {
        mon: [{ from: '06:00', to: '22:00' }],
        tue: [{ from: '06:00', to: '22:00' }],
        wed: [{ from: '06:00', to: '22:00' }],
        thu: [{ from: '06:00', to: '22:00' }],
        fri: [{ from: '06:00', to: '22:00' }],
      },
      holidays: ['2026-01-01', '2026-05-25', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25'],
    },
    // Field team: a day shift with a lunch break, and a night shift that runs past midnight.
    'field-shifts': {
      weekly: {
        mon: [{ from: '08:00', to: '12:00' }, { from: '13:00', to: '17:00' }, { from: '22:00', to: '06:00' }],
        tue: [{ from: '08:00', to: '12:00' }, { from: '13:00', to: '17:00' }, { from: '22:00', to: '06:00' }],
        wed: [{ from: '08:00', to: '12:00' }, { from: '13:00', to: '17:00' }, { from: '22:00', to: '06:00' }],
        thu: [{ from: '08:00', to: '12:00' }, { from: '13:00', to: '17:00' }, { from: '22:00', to: '06:00' }],
        fri: [{ from: '08:00', to: '12:00' }, { from: '13:00', to: '17:00' }],
      },
      holidays: ['2026-01-01', '2026-05-25', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25'],
    },
  },
  incidents: {
    faultClasses: [
      { name: 'offline', match: { events: ['offline'] }, priority: 'P2', remoteFix: false },
      { name: 'faulted', match: { events: ['faulted'], techCodes: ['CX001', 'CX002', 'CX003', 'CX004'] }, priority: 'P2', remoteFix: true },
      { name: 'electrical', match: { ocppErrorCodes: ['GroundFailure', 'OverCurrentFailure', 'OverVoltage', 'UnderVoltage'] }, priority: 'P1', remoteFix: false },
      { name: 'other', match: { ocppErrorCodes: ['InternalError', 'OtherError', 'ReaderFailure', 'ConnectorLockFailure', 'PowerMeterFailure'] }, priority: 'P3', remoteFix: true },
      { name: 'driver-report', match: { events: ['driver-report'] }, priority: 'P3', remoteFix: true },
      { name: 'maintenance', match: { events: ['maintenance-finding'] }, priority: 'P4', remoteFix: false },
    ],
    offlineGracePeriod: '20m',
    flappingWindow: '10m',
    wholeSiteDown: { offlinePercentAtLeast: 50, priority: 'P1' },
  },
  sla: {
    targets: {
      P1: { respondWithin: '1h', fixWithin: '24h', calendar: 'always' },
      P2: { respondWithin: '2h', fixWithin: '48h', calendar: 'field-shifts' },
      P3: { respondWithin: '8h', fixWithin: '5d', calendar: 'field-shifts' },
      P4: { respondWithin: '3d', fixWithin: '30d', calendar: 'office-hours' },
    },
    retroactiveStartUpTo: '1h',
    pauseReasons: ['venue-access', 'parts', 'utility'],
    verificationWindow: '2h',
    uptime: { targetPercent: 97, excludedCauses: ['utility', 'vandalism', 'scheduled-maintenance', 'vehicle', 'natural-disaster', 'outside-operating-hours'], caps: { vandalismDaysPerEvent: 10, scheduledMaintenanceHoursPerYear: 72 } },
  },
  escalation: [
    { level: 1, trigger: { kind: 'unacknowledged-for', after: '15m' }, contacts: [{ name: 'MetroCharge desk', email: 'desk@metrocharge.example', phone: '+1 212 555 0100' }], repeatEvery: '15m' },
    { level: 2, trigger: { kind: 'fix-elapsed', percent: 50 }, contacts: [{ name: 'MetroCharge field supervisor', email: 'field@metrocharge.example' }] },
    { level: 3, trigger: { kind: 'fix-elapsed', percent: 90 }, contacts: [{ name: 'Harbour asset management', email: 'assets@harbour-estates.example' }], repeatEvery: '4h' },
  ],
  warranty: {
    paidBy: { hardware: 'harbour', installation: 'metrocharge', misuse: 'harbour' },
    vendorWarranty: [
      { model: 'ChargePoint CPF50', months: 36 },
      { model: 'Enel X JuiceBox Pro 40', months: 36 },
    ],
  },
  connectivity: { simDataPlan: 'metrocharge', router: 'harbour', wifiCredentials: 'harbour' },
  pricing: {
    currency: 'USD',
    serviceFeePerChargerMonthly: '45.00',
    // Free in the launch month (July 2026); from August 0.35 per kWh plus 0.03 per minute charging,
    // and after 30 minutes plugged in, idle time not charging 0.40 per minute. No sales tax on charging here.
    driverTariffs: [
      {
        country_code: 'US',
        party_id: 'HBE',
        id: 'harbour-launch',
        currency: 'USD',
        type: 'REGULAR',
        tariff_alt_text: [{ language: 'en', text: 'Free charging for residents during the launch month.' }],
        elements: [{ price_components: [{ type: 'FLAT', price: 0, step_size: 0 }] }],
        end_date_time: '2026-08-01T04:00:00Z',
        last_updated: '2026-07-01T00:00:00Z',
      },
      {
        country_code: 'US',
        party_id: 'HBE',
        id: 'harbour-residents',
        currency: 'USD',
        type: 'REGULAR',
        tariff_alt_text: [{ language: 'en', text: '35¢ per kWh plus 3¢ per minute charging; after 30 minutes plugged in, 40¢ per idle minute.' }],
        elements: [
          { price_components: [{ type: 'PARKING_TIME', price: 24.0, vat: 0, step_size: 60 }], restrictions: { min_duration: 1800 } },
          {
            price_components: [
              { type: 'ENERGY', price: 0.35, vat: 0, step_size: 1 },
              { type: 'TIME', price: 1.8, vat: 0, step_size: 60 },
            ],
          },
        ],
        start_date_time: '2026-08-01T04:00:00Z',
        last_updated: '2026-07-01T00:00:00Z',
      },
    ],
    access: 'whitelist',
    voucherCodes: [],
    authorizedIdTags: ['HARBOUR-RES-0001', 'HARBOUR-RES-0002', 'HARBOUR-FLEET-01'],
    paymentProcessingFeePercent: 3,
    venueRevenueSharePercent: 100,
    energyCostPassThroughPerKwh: '0.21',
    vatPercent: 0,
  },
  settlement: { dayOfMonth: 3, recipients: ['ap@harbour-estates.example'], approvalBeforeSending: true },
  credits: {
    rules: [
      { when: { kind: 'uptime-below', percent: 97 }, credit: { percentOfFee: 5 } },
      { when: { kind: 'breaches-at-least', clock: 'response', count: 3 }, credit: { percentOfFee: 5 } },
    ],
    capPercentOfFee: 30,
  },
  dataAccess: {
    harbour: { sessions: true, reports: true, export: true },
    metrocharge: { sessions: true, reports: true, export: true },
    tenant: { sessions: false, reports: true, export: false },
  },
  maintenance: { intervalDays: 90, checklist: ['Inspect cables and holsters', 'Clean connectors', 'Check network signal', 'Verify metering against a reference'] },
  term: { start: '2026-07-01', end: '2031-06-30', renewal: 'auto-monthly', noticePeriodDays: 60 },
});
