export { prometheusConfig, COMPOSE_ALERTMANAGERS, COMPOSE_TARGETS, type ScrapeTargets } from './config.ts';
export { recordingRules, alertRules, RECORDED, ALERT_THRESHOLDS, SLO } from './rules.ts';
export { generatedFiles, PROMETHEUS_DIR } from './generate.ts';
export { RUNBOOKS_CONSOLE, runbookAnchor, runbookSections } from './runbooks.ts';
export { CONSOLES_DIR, consoleFlags, consoleLibrariesDir } from './consoles.ts';
