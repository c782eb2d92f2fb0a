export { incidentWorkflow } from './incident.js';
export { connectivityWatch } from './connectivity.js';
export { chargerCommand } from './charger-command.js';
