// Prometheus scrape config from one description, for both set-ups: docker-compose (service names) and
// local processes on 127.0.0.1 (ports known at start). No hand-kept copies.
import { stringify } from 'yaml';

export interface ScrapeTargets {
  router: string;
  llmSim: string;
  loadtest: string;
}

export const COMPOSE_TARGETS: ScrapeTargets = {
  router: 'router:4000',
  llmSim: 'llm-sim:8000',
  loadtest: 'loadtest:8089',
};

export function prometheusConfig(
  targets: ScrapeTargets,
  options: { scrapeInterval?: string; ruleFiles?: string[] } = {},
): string {
  const interval = options.scrapeInterval ?? '5s';
  const job = (name: string, target: string) => ({ job_name: name, static_configs: [{ targets: [target] }] });
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: options.ruleFiles ?? ['rules/recording.yml', 'rules/alerts.yml'],
    scrape_configs: [
      job('llm-router', targets.router),
      job('llm-sim', targets.llmSim),
      job('loadtest', targets.loadtest),
    ],
  });
}
