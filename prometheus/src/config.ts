// Prometheus scrape config from one description, for both set-ups: docker-compose (service names) and
// local processes on 127.0.0.1 (ports known at start). No hand-kept copies.
import { stringify } from 'yaml';

export interface ScrapeTargets {
  /** Every router replica ("host:port"), or a DNS name whose A records are the replicas (compose). */
  router: string[] | { dns: string; port: number };
  llmSim: string;
  loadtest: string;
}

/** Alertmanagers Prometheus sends alerts to, by the same two set-ups. */
export const COMPOSE_ALERTMANAGERS = ['alertmanager:9093'];

export const COMPOSE_TARGETS: ScrapeTargets = {
  // Compose's DNS answers the service name with every replica's address (ROUTER_REPLICAS).
  router: { dns: 'router', port: 4000 },
  llmSim: 'llm-sim:8000',
  loadtest: 'loadtest:8089',
};

export function prometheusConfig(
  targets: ScrapeTargets,
  options: { scrapeInterval?: string; ruleFiles?: string[]; alertmanagers?: string[] } = {},
): string {
  const interval = options.scrapeInterval ?? '5s';
  const job = (name: string, target: string) => ({ job_name: name, static_configs: [{ targets: [target] }] });
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: options.ruleFiles ?? ['rules/recording.yml', 'rules/alerts.yml'],
    ...(options.alertmanagers?.length
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: options.alertmanagers }] }] } }
      : {}),
    scrape_configs: [
      Array.isArray(targets.router)
        ? { job_name: 'llm-router', static_configs: [{ targets: targets.router }] }
        : {
            job_name: 'llm-router',
            dns_sd_configs: [
              { names: [targets.router.dns], type: 'A', port: targets.router.port, refresh_interval: interval },
            ],
          },
      job('llm-sim', targets.llmSim),
      job('loadtest', targets.loadtest),
    ],
  });
}
