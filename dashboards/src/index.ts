import { deploymentsDashboard } from './deployments.ts';
import { loadtestDashboard } from './loadtest.ts';
import { routerOverview } from './router-overview.ts';
import { runtimeDashboard } from './runtime.ts';

/** Every dashboard; the first is Grafana's home dashboard. */
export const allDashboards = () => [routerOverview(), deploymentsDashboard(), loadtestDashboard(), runtimeDashboard()];
export const HOME_DASHBOARD_UID = 'llm-router-overview';
