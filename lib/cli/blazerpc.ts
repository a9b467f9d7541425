#!/usr/bin/env node
/**
 * The `blazerpc` command: generate a .proto or client types from an app
 * module, list a server's models, call a model. Run `blazerpc --help`.
 */
import 'reflect-metadata';
import { runCli } from './run-cli.js';

const code = await runCli(process.argv.slice(2), process);
// Exit once the output is flushed, not when the event loop empties: a module file the user pointed
// at (their main.js, say) may have started servers or timers that would keep the command running.
process.stdout.write('', () => process.exit(code));
