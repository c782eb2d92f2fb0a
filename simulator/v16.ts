import { accrue, now, readingTime, type Connector, type Session, type SessionEndReason } from './connector.js';
import type { ChargerControls, ChargerLink, CommandAnswer, ProtocolVersion } from './protocol.js';

const FAULT_CODES = ['GroundFailure', 'HighTemperature', 'InternalError', 'OverCurrentFailure', 'PowerMeterFailure', 'PowerSwitchFailure', 'ReaderFailure', 'UnderVoltage', 'OverVoltage', 'ConnectorLockFailure'];

/** OCPP 1.6: a session passes through Preparing and Finishing, the server numbers transactions, a fault is a StatusNotification with its error code. */
export class Ocpp16 implements ProtocolVersion {
  readonly subprotocol = 'ocpp1.6';

  constructor(private readonly link: ChargerLink) {}

  bootNotification() {
    return { chargePointVendor: 'ConciergeSim', chargePointModel: 'SIM-16', chargePointSerialNumber: this.link.id.slice(-25), firmwareVersion: '1.0.0' };
  }

  statusNotification(connector: Connector) {
    return this.status(connector);
  }

  meterValues(connector: Connector) {
    accrue(connector);
    const meterValue = [{ timestamp: readingTime(connector), sampledValue: this.sampledValues(connector, 'Sample.Periodic') }];
    const transactionId = connector.session?.transactionId;
    return { connectorId: connector.id, ...(typeof transactionId === 'number' ? { transactionId } : {}), meterValue };
  }

  periodicReading(connector: Connector): [string, object] {
    return ['MeterValues', this.meterValues(connector)];
  }

  async startTransaction(connector: Connector, idTag: string, powerW: number) {
    await this.link.send('StatusNotification', this.status(connector, 'Preparing'));
    const started = (await this.link.send('StartTransaction', { connectorId: connector.id, idTag, meterStart: Math.round(connector.energyWh), timestamp: now() })) as
      | { transactionId: number; idTagInfo: { status: string } }
      | false;
    if (!started || started.idTagInfo.status !== 'Accepted') return false;
    connector.session = { transactionId: started.transactionId, idTag, seqNo: 0, powerW, timer: undefined };
    await this.link.send('StatusNotification', this.status(connector, 'Charging'));
    return true;
  }

  async stopTransaction(connector: Connector, session: Session, reason: SessionEndReason) {
    const stoppedReason = reason === 'ImmediateReset' ? 'HardReset' : reason;
    await this.link.send('StopTransaction', { transactionId: session.transactionId, idTag: session.idTag, meterStop: Math.round(connector.energyWh), timestamp: now(), reason: stoppedReason });
  }

  async reportSessionOver(connector: Connector) {
    await this.link.send('StatusNotification', this.status(connector, 'Finishing'));
    await this.link.send('StatusNotification', this.status(connector));
  }

  async reportFault(connector: Connector) {
    const { options } = this.link;
    const errorCode = FAULT_CODES[Math.floor(options.random() * FAULT_CODES.length)]!;
    const fault = { connectorId: connector.id, errorCode, status: 'Faulted', timestamp: now(), vendorErrorCode: `E${100 + Math.floor(options.random() * 900)}`, info: 'simulated fault' };
    return Boolean(await this.link.send('StatusNotification', fault));
  }

  async reportCleared(connector: Connector) {
    return Boolean(await this.link.send('StatusNotification', this.status(connector)));
  }

  commands(charger: ChargerControls): Record<string, CommandAnswer> {
    const { options } = this.link;
    return {
      Reset: (p) => {
        charger.reboot(p.type === 'Soft' ? 'SoftReset' : 'HardReset');
        return { status: 'Accepted' };
      },
      ChangeAvailability: (p) => {
        const connectorId = Number(p.connectorId);
        charger.changeAvailability(connectorId === 0 ? charger.connectorIds() : [connectorId], p.type === 'Operative');
        return { status: 'Accepted' };
      },
      TriggerMessage: (p) => ({ status: charger.trigger(String(p.requestedMessage), p.connectorId as number | undefined) ? 'Accepted' : 'NotImplemented' }),
      RemoteStartTransaction: () => charger.remoteStart(),
      RemoteStopTransaction: (p) => charger.remoteStop(p.transactionId),
      UnlockConnector: () => ({ status: 'Unlocked' }),
      ClearCache: () => ({ status: 'Accepted' }),
      ChangeConfiguration: () => ({ status: 'Accepted' }),
      GetConfiguration: () => ({
        configurationKey: [
          { key: 'HeartbeatInterval', readonly: false, value: String(Math.round(options.heartbeatIntervalMs / 1000)) },
          { key: 'MeterValueSampleInterval', readonly: false, value: String(Math.round(options.meterIntervalMs / 1000)) },
          { key: 'NumberOfConnectors', readonly: true, value: String(charger.connectorIds().length) },
        ],
      }),
      DataTransfer: () => ({ status: 'UnknownVendorId' }),
    };
  }

  /** The connector's status; `as` overrides it with a transitional one. */
  private status(connector: Connector, as?: 'Preparing' | 'Charging' | 'Finishing') {
    return { connectorId: connector.id, errorCode: 'NoError', status: as ?? connector.state, timestamp: now() };
  }

  private sampledValues(connector: Connector, context: string) {
    const powerW = connector.session?.powerW ?? 0;
    const energy = Math.round(connector.energyWh);
    return [
      { value: String(energy), context, format: 'Raw', measurand: 'Energy.Active.Import.Register', location: 'Outlet', unit: 'Wh' },
      { value: String(powerW), context, format: 'Raw', measurand: 'Power.Active.Import', location: 'Outlet', unit: 'W' },
    ];
  }
}
