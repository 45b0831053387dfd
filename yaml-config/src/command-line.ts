// Command-line options, the other half of a service's configuration: --help prints the usage, and an
// unknown or malformed option is one clear line plus the usage (exit 2), never a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function parseCommandLine<T extends ParseArgsConfig>(
  program: string,
  usage: string,
  config: T,
  argv: string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<T>> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs<T>({ ...config, args: argv });
  } catch (err) {
    console.error(`${program}: ${(err as Error).message.split('. To specify a positional')[0]}\n\n${usage}`);
    process.exit(2);
  }
}
