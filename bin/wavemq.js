#!/usr/bin/env node
// Entry point of the `wavemq` command: loads the TypeScript sources through
// tsx's loader, then runs the CLI. The exit is explicit: a command that
// failed must not linger on an open connection.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exit(await main(process.argv));
