// `make logs` for a person: pino's JSON lines (router, llm-sim) as "[time] LEVEL: message {fields}" with local
// times instead of epoch milliseconds; other lines (Prometheus's logfmt, plain text) as they are.
// `make logs LOGS_ARGS=--json` gives the raw lines.
import { prettyFactory } from 'pino-pretty';

const pretty = prettyFactory({
  colorize: false,
  translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
  ignore: 'pid,hostname',
  singleLine: true,
});

export function readableLog(text: string): string {
  return text
    .split('\n')
    .map((line) => (line.startsWith('{') ? pretty(line).replace(/\n$/, '') : line))
    .join('\n');
}
