export { incidentWorkflow } from './incident/workflow.js';
export { connectivityWatch } from './connectivity.js';
export { chargerCommand } from './charger-command.js';
