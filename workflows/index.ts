export { incidentWorkflow } from './incident/workflow.js';
export { connectivityWatch } from './connectivity/workflow.js';
export { chargerCommand } from './charger-command/workflow.js';
export { settlementWorkflow } from './settlement/workflow.js';
export { agreementWorkflow } from './agreement/workflow.js';
