import { randomUUID } from 'node:crypto';
import { accrue, now, readingTime, type Connector, type Session, type SessionEndReason } from './connector.js';
import type { BootReason, ChargerControls, ChargerLink, CommandAnswer, ProtocolVersion } from './protocol.js';

const TECH_CODES = ['CX001', 'CX002', 'CX003', 'CX004', 'CX005', 'CX006'];

/**
 * OCPP 2.0.1: each connector is an EVSE with one connector, the charger names its transactions and
 * reports a session's readings through them, and a fault is a Faulted status plus a NotifyEvent on
 * the connector's `Problem` variable.
 */
export class Ocpp201 implements ProtocolVersion {
  readonly subprotocol = 'ocpp2.0.1';
  private nextEventId = 1;
  /** The NotifyEvent eventId of each connector's open Problem, referred to when it clears. */
  private readonly openProblems = new Map<number, number>();

  constructor(private readonly link: ChargerLink) {}

  bootNotification(reason: BootReason) {
    return { reason, chargingStation: { vendorName: 'Concierge Simulator', model: 'SIM-201', serialNumber: this.link.id.slice(-25), firmwareVersion: '1.0.0' } };
  }

  statusNotification(connector: Connector) {
    return this.status(connector);
  }

  meterValues(connector: Connector) {
    accrue(connector);
    const meterValue = [{ timestamp: readingTime(connector), sampledValue: this.sampledValues(connector, 'Sample.Periodic') }];
    return { evseId: connector.id, meterValue };
  }

  /** A connector in a session reports through its transaction. */
  periodicReading(connector: Connector): [string, object] {
    if (!connector.session) return ['MeterValues', this.meterValues(connector)];
    accrue(connector);
    return ['TransactionEvent', this.transactionEvent(connector, connector.session, 'Updated', 'MeterValuePeriodic', 'Sample.Periodic')];
  }

  async startTransaction(connector: Connector, idTag: string, powerW: number) {
    const session: Session = { transactionId: randomUUID(), idTag, seqNo: 0, powerW, timer: undefined };
    await this.link.send('StatusNotification', this.status(connector, 'Occupied'));
    const ok = await this.link.send('TransactionEvent', this.transactionEvent(connector, session, 'Started', 'Authorized', 'Transaction.Begin'));
    if (!ok) return false;
    connector.session = session;
    return true;
  }

  async stopTransaction(connector: Connector, session: Session, reason: SessionEndReason) {
    const trigger = reason === 'Remote' ? 'RemoteStop' : reason === 'Other' ? 'AbnormalCondition' : reason === 'Local' ? 'StopAuthorized' : 'ResetCommand';
    const stoppedReason = reason === 'HardReset' || reason === 'SoftReset' ? 'ImmediateReset' : reason;
    await this.link.send('TransactionEvent', this.transactionEvent(connector, session, 'Ended', trigger, 'Transaction.End', stoppedReason));
  }

  async reportSessionOver(connector: Connector) {
    await this.link.send('StatusNotification', this.status(connector));
  }

  async reportFault(connector: Connector) {
    const reported = await this.link.send('StatusNotification', this.status(connector));
    this.openProblems.set(connector.id, this.nextEventId++);
    await this.link.send('NotifyEvent', this.problemEvent(connector, true));
    return Boolean(reported);
  }

  async reportCleared(connector: Connector) {
    await this.link.send('NotifyEvent', this.problemEvent(connector, false));
    const reported = await this.link.send('StatusNotification', this.status(connector));
    this.openProblems.delete(connector.id);
    return Boolean(reported);
  }

  commands(charger: ChargerControls): Record<string, CommandAnswer> {
    return {
      Reset: () => {
        charger.reboot('ImmediateReset');
        return { status: 'Accepted' };
      },
      ChangeAvailability: (p) => {
        const evse = p.evse as { id: number } | undefined;
        charger.changeAvailability(evse && evse.id > 0 ? [evse.id] : charger.connectorIds(), p.operationalStatus === 'Operative');
        return { status: 'Accepted' };
      },
      TriggerMessage: (p) => ({ status: charger.trigger(String(p.requestedMessage), (p.evse as { id: number } | undefined)?.id) ? 'Accepted' : 'NotImplemented' }),
      RequestStartTransaction: () => charger.remoteStart(),
      RequestStopTransaction: (p) => charger.remoteStop(p.transactionId),
      UnlockConnector: () => ({ status: 'Unlocked' }),
      ClearCache: () => ({ status: 'Accepted' }),
      GetVariables: (p) => ({
        getVariableResult: (p.getVariableData as Array<{ component: object; variable: object }>).map(({ component, variable }) => ({ attributeStatus: 'UnknownVariable', component, variable })),
      }),
      SetVariables: (p) => ({
        setVariableResult: (p.setVariableData as Array<{ component: object; variable: object }>).map(({ component, variable }) => ({ attributeStatus: 'Accepted', component, variable })),
      }),
      DataTransfer: () => ({ status: 'UnknownVendorId' }),
    };
  }

  /** The connector's status (Charging is Occupied); `as` overrides it. */
  private status(connector: Connector, as?: 'Occupied') {
    const connectorStatus = as ?? (connector.state === 'Charging' ? 'Occupied' : connector.state);
    return { timestamp: now(), connectorStatus, evseId: connector.id, connectorId: 1 };
  }

  /** NotifyEvent on the connector's `Problem` variable: raised (actualValue "true") or cleared. */
  private problemEvent(connector: Connector, raised: boolean) {
    const problemEventId = this.openProblems.get(connector.id);
    const eventId = raised ? problemEventId! : this.nextEventId++;
    const techCode = TECH_CODES[Math.floor(this.link.options.random() * TECH_CODES.length)]!;
    return {
      generatedAt: now(),
      seqNo: 0,
      tbc: false,
      eventData: [
        {
          eventId,
          timestamp: now(),
          trigger: 'Delta',
          actualValue: raised ? 'true' : 'false',
          eventNotificationType: 'HardWiredNotification',
          component: { name: 'Connector', evse: { id: connector.id, connectorId: 1 } },
          variable: { name: 'Problem' },
          ...(raised ? { techCode, techInfo: 'simulated fault' } : { cleared: true, ...(problemEventId ? { cause: problemEventId } : {}) }),
        },
      ],
    };
  }

  private transactionEvent(connector: Connector, session: Session, eventType: 'Started' | 'Updated' | 'Ended', triggerReason: string, context: string, stoppedReason?: string) {
    return {
      eventType,
      timestamp: now(),
      triggerReason,
      seqNo: session.seqNo++,
      transactionInfo: {
        transactionId: String(session.transactionId),
        chargingState: eventType === 'Ended' ? 'EVConnected' : 'Charging',
        ...(stoppedReason ? { stoppedReason } : {}),
      },
      ...(eventType === 'Started' ? { evse: { id: connector.id, connectorId: 1 }, idToken: { idToken: session.idTag, type: 'ISO14443' } } : {}),
      meterValue: [{ timestamp: readingTime(connector), sampledValue: this.sampledValues(connector, context) }],
    };
  }

  private sampledValues(connector: Connector, context: string) {
    const powerW = connector.session?.powerW ?? 0;
    const energy = Math.round(connector.energyWh);
    return [
      { value: energy, context, measurand: 'Energy.Active.Import.Register', location: 'Outlet', unitOfMeasure: { unit: 'Wh' } },
      { value: powerW, context, measurand: 'Power.Active.Import', location: 'Outlet', unitOfMeasure: { unit: 'W' } },
    ];
  }
}
