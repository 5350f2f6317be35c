// Where an agent's reconnecting ends, or is off: reconnect false fails
// pending calls as before; a router with another id closes the agent;
// close() while reconnecting rejects what waits and leaves nothing
// running, so the process exits by itself.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  AgentDisconnectedError,
  MAX_WAITING_PUBLISHES,
  RouterChangedError,
} from '../../src/agent/index.ts';
import { makeSite } from '../helpers/site.ts';

const FIXTURE = join(
  dirname(fileURLToPath(import.meta.url)),
  'fixtures',
  'agent-close-reconnecting.ts',
);

t.test(
  'agent reconnect off: pending calls reject with AgentDisconnectedError when the router dies, and the agent is closed',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const agent = await site.connect(await site.agent('a'), {
      reconnect: false,
    });
    const sub = await agent.subscribe('c/*', { id: 'off' });
    const it = sub[Symbol.asyncIterator]();
    const next = it.next();
    // Stopped first, so the calls are sent and surely left unanswered.
    site.router!.proc.kill('SIGSTOP');
    const publish = agent.publish('c/x', 'unanswered');
    const status = agent.status();
    await new Promise((r) => setTimeout(r, 200)); // both are sent
    await site.router!.kill('SIGKILL');
    await t.rejects(publish, AgentDisconnectedError, 'the publish');
    await t.rejects(status, AgentDisconnectedError, 'the status request');
    t.equal(agent.state, 'closed');
    t.equal((await next).done, true, 'the subscription ends');
    await t.rejects(agent.publish('c/x', 'later'), AgentDisconnectedError);
  },
);

t.test(
  'agent reconnect: a router that comes back with another id closes the agent with RouterChangedError',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const agent = await site.connect(await site.agent('a'));
    const before = agent.routerId;
    const sub = await agent.subscribe('r/*', { id: 'changed' });
    const next = sub[Symbol.asyncIterator]().next();
    site.router!.proc.kill('SIGSTOP');
    const publish = agent.publish('r/x', 'signed for the old router');
    await site.router!.kill('SIGKILL');
    // Same port, certificate and namespace, new data: a new router id.
    await rm(join(site.dir, 'queue'), { recursive: true, force: true });
    await site.start();
    await t.rejects(publish, RouterChangedError, 'the held publish');
    await t.rejects(next, RouterChangedError, 'the subscription');
    t.equal(agent.state, 'closed');
    await t.rejects(agent.status(), RouterChangedError, 'later calls');
    const fresh = await site.connect(await site.agent('b'));
    t.not(fresh.routerId, before, 'the router id did change');
  },
);

t.test(
  'agent reconnect: close() while reconnecting rejects waiting publishes with AgentClosedError, stops retrying, and the process exits by itself',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const a = await site.agent('a');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        FIXTURE,
        String(site.agentPort),
        a.file,
        a.proofFile,
        site.ns.id,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Only a hang lets this fire; then the exit is by signal, not code 0.
    const hang = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        clearTimeout(hang);
        resolve(code);
      }),
    );
    const out = createInterface({ input: child.stdout })[
      Symbol.asyncIterator
    ]();
    const line = async (): Promise<string> =>
      String((await out.next()).value ?? '');

    t.equal(await line(), 'connected');
    site.router!.proc.kill('SIGSTOP');
    child.stdin.write('stopped\n');
    t.equal(await line(), 'published');
    await site.router!.kill('SIGKILL'); // and not started again
    child.stdin.end('killed\n');
    const last = await line();
    t.equal(await exited, 0, `the process ended by itself (${stderr})`);
    const summary = JSON.parse(last || '{}') as {
      refused: string;
      outcomes: Record<string, number>;
      after: string;
      states: string[];
    };
    t.equal(summary.refused, 'PUBLISH_BACKLOG_FULL', 'one too many waiting');
    t.same(
      summary.outcomes,
      { AGENT_CLOSED: MAX_WAITING_PUBLISHES },
      'every waiting publish, the one from before the drop included',
    );
    t.equal(summary.after, 'AGENT_CLOSED', 'a publish after close()');
    t.same(summary.states, ['reconnecting', 'closed']);
  },
);
