#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { serve } from './serve.js';

const USAGE = `Usage: herold <command>

Commands:
  serve     start the HTTP service (the default)
  help      show this text

Configuration comes from the environment (PORT, HEROLD_BASE_URL, HEROLD_DATA_DIR, HEROLD_CONFIG); see README.md.`;

/** Runs one subcommand; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, strict: false, options: { help: { type: 'boolean', short: 'h' } } });
  const command = positionals[0] ?? 'serve';
  if (values.help || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  try {
    switch (command) {
      case 'serve':
        await serve(loadConfig());
        return -1;
      default:
        console.error(`herold: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`herold: configuration error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
