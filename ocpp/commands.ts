import { createRequire } from 'node:module';
import { createValidator } from 'ocpp-rpc';

/** The commands the API and workflows may send, per protocol version, by their OCPP action names. */
export const COMMANDS: Record<string, readonly string[]> = {
  'ocpp1.6': [
    'Reset', 'ChangeAvailability', 'UnlockConnector', 'TriggerMessage', 'GetDiagnostics', 'UpdateFirmware', 'ChangeConfiguration',
    'GetConfiguration', 'ClearCache', 'RemoteStartTransaction', 'RemoteStopTransaction', 'DataTransfer', 'GetLog', 'ExtendedTriggerMessage',
  ],
  'ocpp2.0.1': [
    'Reset', 'ChangeAvailability', 'UnlockConnector', 'TriggerMessage', 'GetLog', 'UpdateFirmware', 'SetVariables', 'GetVariables',
    'ClearCache', 'RequestStartTransaction', 'RequestStopTransaction', 'DataTransfer',
  ],
};

export interface ChargerCommand {
  chargerId: string;
  command: string;
  params: unknown;
}

export { gatewayTaskQueue } from '../contracts/connectivity.js';

const require = createRequire(import.meta.url);
const validators = new Map([
  ['ocpp1.6', createValidator('ocpp1.6', require('ocpp-rpc/lib/schemas/ocpp1_6.json') as unknown[])],
  ['ocpp2.0.1', createValidator('ocpp2.0.1', require('ocpp-rpc/lib/schemas/ocpp2_0_1.json') as unknown[])],
]);

/** Why a command cannot be sent to a charger speaking `protocol`, or null when it can: checked against the official schema before it leaves. */
export function commandProblem(protocol: string, command: string, params: unknown): string | null {
  const allowed = COMMANDS[protocol];
  const validator = validators.get(protocol);
  if (!allowed || !validator) return `the charger speaks ${protocol}, which has no commands here`;
  if (!allowed.includes(command)) return `${command} is not a ${protocol} command here; allowed: ${allowed.join(', ')}`;
  try {
    validator.validate(`urn:${command}.req`, params);
    return null;
  } catch (error) {
    return `invalid ${command} request for ${protocol}: ${schemaErrors(error)}`;
  }
}

/** The schema's complaints, each with its field and, for a closed set, the values it takes. */
function schemaErrors(error: unknown): string {
  const errors = (error as { details?: { errors?: Array<{ instancePath: string; message?: string; params?: { allowedValues?: unknown[] } }> } }).details?.errors;
  if (!errors?.length) return (error as Error).message;
  return errors
    .map((e) => {
      const field = e.instancePath.replace(/^\//, '').replaceAll('/', '.') || 'body';
      const allowed = e.params?.allowedValues ? `: ${e.params.allowedValues.join(', ')}` : '';
      return `${field} ${e.message ?? 'is invalid'}${allowed}`;
    })
    .join('; ');
}
