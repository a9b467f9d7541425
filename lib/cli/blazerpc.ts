#!/usr/bin/env node
/**
 * The `blazerpc` command: generate a .proto or client types from an app
 * module, list a server's models, call a model. Run `blazerpc --help`.
 */
import 'reflect-metadata';
import { runCli } from './run-cli.js';

process.exitCode = await runCli(process.argv.slice(2), process);
