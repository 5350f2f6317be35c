/**
 * The `wavemq` command. `wavemq CONFIG` (a path) runs a router, as the
 * systemd unit does; every other use is a subcommand. Errors print one
 * line naming what is wrong and exit non-zero.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { WavemqError, errorMessage } from '../common/errors.ts';
import { addAgentCommands } from './agent-commands.ts';
import { addStorageCommands } from './storage-commands.ts';
import { addWaveCommands } from './wave-commands.ts';
import { DEMO_PORT, demoPort, runDemo } from './demo.ts';
import { runFromFile } from './run.ts';

/** The package's version, from its package.json. */
function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

function program(): Command {
  const p = new Command('wavemq')
    .description('tiered publish/subscribe for sites on unreliable links')
    .version(packageVersion(), '-V, --version', 'print the version')
    .addHelpText(
      'after',
      '\nwavemq FILE, with a path to a config file, is the same as ' +
        'wavemq run FILE:\n  wavemq /etc/wavemq/wavemq.toml',
    )
    .exitOverride()
    .showHelpAfterError();
  p.command('run <config>')
    .description('run a router from a TOML config file (or: wavemq <config>)')
    .action((file: string) => runFromFile(file));
  p.command('demo')
    .description(
      'run a site router on a built-in config, with a namespace and grants',
    )
    .option('--dir <dir>', 'where to keep its files', '.wavemq-demo')
    .option('--port <port>', 'agent port, 1..65535', demoPort, DEMO_PORT)
    .action((o: { dir: string; port: number }) => runDemo(o.dir, o.port));
  addWaveCommands(p);
  addAgentCommands(p);
  addStorageCommands(p);
  return p;
}

/** The code to show: the router's own code when it refused a request. */
function errorCode(err: { code: string; data: object }): string {
  const routerCode = (err.data as Record<string, unknown>)['routerCode'];
  return typeof routerCode === 'string' ? routerCode : err.code;
}

/** Runs the CLI on `argv` (process.argv form); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const p = program();
  const args = argv.slice(2);
  const first = args[0];
  // `wavemq /etc/wavemq/wavemq.toml`: the form the systemd unit uses.
  const known = p.commands.map((c) => c.name());
  if (
    first &&
    !first.startsWith('-') &&
    !known.includes(first) &&
    first !== 'help'
  ) {
    if (!/[/.]/.test(first)) {
      console.error(
        `wavemq: unknown command '${first}' (a config file is named by ` +
          'a path, e.g. ./wavemq.toml); see wavemq --help',
      );
      return 2;
    }
    args.unshift('run');
  }
  // `wavemq sub ... | head`: a closed pipe ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    await p.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const code =
      err instanceof WavemqError
        ? ` (${errorCode(err as { code: string; data: object })})`
        : '';
    console.error(`wavemq: ${errorMessage(err)}${code}`);
    return 1;
  }
}
