import { defineAgreement } from '../agreement.js';

/** A supermarket chain hosts chargers owned and run by a charge-point operator, for a share of the revenue. */
export default defineAgreement({
  id: 'greenmart-retail',
  name: 'GreenMart — CPO-operated with revenue share',
  serviceModel: 'cpo-operated',
  parties: {
    greenmart: { name: 'GreenMart Stores Ltd', contact: { name: 'Property team', email: 'property@greenmart.example' } },
    plugco: { name: 'PlugCo Charging Ltd', contact: { name: 'Operations', email: 'ops@plugco.example', phone: '+44 20 7946 0000' } },
    sparkfit: { name: 'SparkFit Electrical', contact: { name: 'Jobs desk', email: 'jobs@sparkfit.example' } },
  },
  ownership: { hardwareOwner: 'plugco', cpmsContractOwner: 'plugco', operator: 'plugco', venue: 'greenmart', installer: 'sparkfit' },
  sites: [
    {
      id: 'greenmart-leeds',
      name: 'GreenMart Leeds Kirkstall',
      address: 'Kirkstall Road 100, Leeds LS4 2AA, United Kingdom',
      timeZone: 'Europe/London',
      operatingHours: 'store-hours',
      chargers: [
        { id: 'GM-LDS-01', model: 'Wallbox Commander 2', connectors: 1 },
        { id: 'GM-LDS-02', model: 'Wallbox Commander 2', connectors: 1 },
        { id: 'GM-LDS-03', model: 'Kempower Satellite', connectors: 2 },
      ],
    },
  ],
  calendars: {
    always: { alwaysOpen: true },
    'store-hours': {
      weekly: {
        mon: [{ from: '07:00', to: '22:00' }],
        tue: [{ from: '07:00', to: '22:00' }],
        wed: [{ from: '07:00', to: '22:00' }],
        thu: [{ from: '07:00', to: '22:00' }],
        fri: [{ from: '07:00', to: '22:00' }],
        sat: [{ from: '07:00', to: '22:00' }],
        sun: [{ from: '10:00', to: '16:00' }],
      },
      holidays: ['2026-12-25'],
    },
    'uk-business': {
      weekly: {
        mon: [{ from: '09:00', to: '17:30' }],
        tue: [{ from: '09:00', to: '17:30' }],
        wed: [{ from: '09:00', to: '17:30' }],
        thu: [{ from: '09:00', to: '17:30' }],
        fri: [{ from: '09:00', to: '17:30' }],
      },
      // England and Wales bank holidays 2026.
      holidays: ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28'],
    },
  },
  incidents: {
    faultClasses: [
      { name: 'offline', match: { events: ['offline'] }, priority: 'P2', remoteFix: false },
      { name: 'charger-fault', match: { events: ['faulted'], ocppErrorCodes: ['InternalError', 'OtherError', 'PowerMeterFailure', 'ResetFailure'] }, priority: 'P2', remoteFix: true },
      { name: 'safety', match: { ocppErrorCodes: ['GroundFailure', 'OverCurrentFailure', 'OverVoltage', 'UnderVoltage', 'HighTemperature'] }, priority: 'P1', remoteFix: false },
      { name: 'payment-or-access', match: { ocppErrorCodes: ['ReaderFailure', 'LocalListConflict'], events: ['driver-report'] }, priority: 'P3', remoteFix: true },
      { name: 'cosmetic', match: { events: ['maintenance-finding'] }, priority: 'P4', remoteFix: false },
    ],
    offlineGracePeriod: '10m',
    flappingWindow: '15m',
    wholeSiteDown: { offlinePercentAtLeast: 100, priority: 'P1' },
  },
  sla: {
    targets: {
      P1: { respondWithin: '30m', fixWithin: '12h', calendar: 'always' },
      P2: { respondWithin: '2h', fixWithin: '2d', calendar: 'store-hours' },
      P3: { respondWithin: '8h', fixWithin: '5d', calendar: 'uk-business' },
      P4: { respondWithin: '2d', fixWithin: '20d', calendar: 'uk-business' },
    },
    pauseReasons: ['venue-access', 'parts', 'utility'],
    verificationWindow: '1h',
    uptime: { targetPercent: 97, excludedCauses: ['utility', 'vandalism', 'scheduled-maintenance', 'vehicle', 'natural-disaster', 'outside-operating-hours'] },
  },
  escalation: [
    { level: 1, trigger: { kind: 'response-elapsed', percent: 80 }, contacts: [{ name: 'PlugCo dispatch', email: 'dispatch@plugco.example' }], repeatEvery: '1h' },
    { level: 2, trigger: { kind: 'response-breached' }, contacts: [{ name: 'PlugCo operations manager', email: 'opsmanager@plugco.example', phone: '+44 20 7946 0001' }] },
    { level: 3, trigger: { kind: 'fix-breached' }, contacts: [{ name: 'GreenMart property team', email: 'property@greenmart.example' }] },
  ],
  warranty: {
    paidBy: { hardware: 'plugco', installation: 'sparkfit', misuse: 'plugco' },
    vendorWarranty: [
      { model: 'Wallbox Commander 2', months: 36 },
      { model: 'Kempower Satellite', months: 24 },
    ],
  },
  connectivity: { simDataPlan: 'plugco', router: 'plugco', wifiCredentials: 'greenmart' },
  pricing: {
    currency: 'GBP',
    serviceFeePerChargerMonthly: '0.00',
    // Weekdays: a 0.30 session fee and 0.69 per kWh. Weekends: "shop & charge", 2.00 for up to 90
    // minutes of parking and charging (energy included), then 3.00 per hour, energy still included.
    driverTariffs: [
      {
        country_code: 'GB',
        party_id: 'PLG',
        id: 'greenmart-public',
        currency: 'GBP',
        type: 'REGULAR',
        tariff_alt_text: [{ language: 'en', text: 'Weekdays 30p per session plus 69p per kWh. Weekends £2 for up to 90 minutes, then £3 per hour, energy included.' }],
        elements: [
          {
            price_components: [
              { type: 'FLAT', price: 2.0, vat: 20, step_size: 1 },
              { type: 'ENERGY', price: 0, vat: 20, step_size: 1 },
              { type: 'TIME', price: 0, vat: 20, step_size: 1 },
              { type: 'PARKING_TIME', price: 0, vat: 20, step_size: 1 },
            ],
            restrictions: { day_of_week: ['SATURDAY', 'SUNDAY'], max_duration: 5400 },
          },
          {
            price_components: [
              { type: 'ENERGY', price: 0, vat: 20, step_size: 1 },
              { type: 'TIME', price: 3.0, vat: 20, step_size: 60 },
              { type: 'PARKING_TIME', price: 3.0, vat: 20, step_size: 60 },
            ],
            restrictions: { day_of_week: ['SATURDAY', 'SUNDAY'] },
          },
          {
            price_components: [
              { type: 'FLAT', price: 0.3, vat: 20, step_size: 1 },
              { type: 'ENERGY', price: 0.69, vat: 20, step_size: 1 },
            ],
          },
        ],
        last_updated: '2025-06-01T00:00:00Z',
      },
    ],
    access: 'public',
    voucherCodes: [{ code: 'GREENCARD10', discountPercent: 10 }],
    paymentProcessingFeePercent: 1.9,
    venueRevenueSharePercent: 15,
    energyCostPassThroughPerKwh: '0.24',
    vatPercent: 20,
  },
  settlement: { dayOfMonth: 10, recipients: ['property@greenmart.example', 'finance@plugco.example'], approvalBeforeSending: false },
  credits: {
    rules: [{ when: { kind: 'uptime-below', percent: 97 }, credit: { fixedAmount: '100.00' } }],
    // No service fee here (PlugCo is paid from charging revenue): the cap is an amount.
    capAmount: '300.00',
  },
  dataAccess: {
    greenmart: { sessions: false, reports: true, export: false },
    plugco: { sessions: true, reports: true, export: true },
    sparkfit: { sessions: false, reports: false, export: false },
  },
  maintenance: { intervalDays: 365, checklist: ['Visual inspection', 'Cable and connector wear', 'Payment terminal test', 'Signage and bay markings'] },
  term: { start: '2025-06-01', end: '2035-05-31', renewal: 'none', noticePeriodDays: 180 },
});
