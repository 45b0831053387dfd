export { prometheusConfig, COMPOSE_ALERTMANAGERS, COMPOSE_TARGETS, type ScrapeTargets } from './config.ts';
export { recordingRules, alertRules, RECORDED, ALERT_THRESHOLDS } from './rules.ts';
export { generatedFiles, PROMETHEUS_DIR } from './generate.ts';
