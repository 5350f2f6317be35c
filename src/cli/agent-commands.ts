/**
 * `wavemq pub`, `sub`, `query` and `status`: an agent from the command
 * line. A refused request exits non-zero with the router's reason, which
 * names the missing permission and resource.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Backoff } from '../common/backoff.ts';
import { WavemqError, errorMessage } from '../common/errors.ts';
import type { Command } from 'commander';
import { parseDuration } from '../common/duration.ts';
import {
  Agent,
  isLinkFailure,
  payloadText,
  type AgentState,
  type ReceivedMessage,
  type Subscription,
} from '../agent/index.ts';
import { parseHostPort } from '../config/index.ts';
import { Entity } from '../wave/index.ts';
import {
  loadEntity,
  loadProof,
  readPassphrase,
  resolveHash,
} from './objects.ts';
import { print } from './output.ts';

interface AgentOpts {
  router: string;
  entity?: string;
  proof?: string;
  namespace?: string;
  passphraseFile?: string;
  json?: boolean;
}

function agentOptions(cmd: Command, identity = true): Command {
  const entity = '--entity <file>';
  const ns = '--namespace <hash|file>';
  cmd.option('--router <host:port>', 'router agent address', '127.0.0.1:4516');
  if (identity) {
    cmd.requiredOption(entity, 'your entity secret file');
    cmd.requiredOption(ns, 'namespace');
  } else {
    cmd.option(entity, 'your entity secret file (default: a throwaway one)');
    cmd.option(ns, 'namespace');
  }
  return cmd
    .option('--proof <file>', 'proof granting the permission')
    .option('--passphrase-file <file>', 'passphrase of the entity')
    .option('--json', 'print JSON');
}

/**
 * Connects as the options say. `reconnect` false suits one-shot requests
 * (query, status): they fail at once when the router goes away.
 */
async function connect(o: AgentOpts, reconnect = true): Promise<Agent> {
  // Status needs no grant: a throwaway entity is enough to connect.
  const entity = o.entity
    ? await loadEntity(o.entity, await readPassphrase(o.passphraseFile))
    : Entity.create({ expiryMs: 3600_000 });
  return Agent.connect({
    router: parseHostPort(o.router),
    entity,
    namespace: o.namespace ? await resolveHash(o.namespace) : '',
    ...(o.proof ? { proof: await loadProof(o.proof) } : {}),
    reconnect,
  });
}

/** Registers the agent commands on `program`. */
export function addAgentCommands(program: Command): void {
  agentOptions(program.command('pub <uri> [payload]'))
    .description('publish a message (payload from stdin when omitted)')
    .option('--persist', 'keep it as the last message for its URI')
    .option('--lines', 'publish each line of stdin as one message')
    .option('--schema <schema>', 'payload schema', 'text')
    .action(pub);
  agentOptions(program.command('sub <pattern>'))
    .description('print messages as they arrive, one a line, and ack them')
    .option('--id <id>', 'durable subscription identifier')
    .option('--count <n>', 'exit after n messages')
    .option('--expiry <duration>', 'how long the queue outlives us', '1h')
    .option('--unsubscribe', 'delete the subscription when leaving')
    .action(sub);
  agentOptions(program.command('query <pattern>'))
    .description('print the persisted messages matching a pattern')
    .action(query);
  agentOptions(program.command('status'), false)
    .description("print the router's status")
    .action(status);
}

type PubOpts = AgentOpts & {
  persist?: boolean;
  lines?: boolean;
  schema: string;
};

async function pub(
  uri: string,
  payload: string | undefined,
  o: PubOpts,
): Promise<void> {
  const agent = await connect(o);
  try {
    const opts = { persist: o.persist === true, schema: o.schema };
    if (o.lines) {
      const pending: Promise<void>[] = [];
      for await (const line of createInterface({ input: process.stdin })) {
        pending.push(agent.publish(uri, line, opts));
      }
      await Promise.all(pending);
      print(
        o.json,
        { published: pending.length },
        `published ${pending.length}`,
      );
      return;
    }
    const body = payload ?? (await readStdin());
    await agent.publish(uri, body, opts);
  } finally {
    await agent.close();
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

type SubOpts = AgentOpts & {
  id?: string;
  count?: string;
  expiry: string;
  unsubscribe?: boolean;
};

/** A message as one line: its text, or JSON with the bytes in base64 when
 *  they are not UTF-8 text. */
function formatMessage(m: ReceivedMessage, json: boolean | undefined): string {
  if (!json) return payloadText(m);
  const bytes = Buffer.from(m.payloads[0]?.content ?? []);
  const text = bytes.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(bytes);
  return JSON.stringify({
    uri: m.uri,
    ...(isText
      ? { payload: text }
      : { payloadBase64: bytes.toString('base64') }),
    schema: m.payloads[0]?.schema,
    seq: m.seq,
    drops: m.drops,
    publisher: m.publisher,
    publishedAtMs: m.publishedAtMs,
    persist: m.persist,
  });
}

function parseCount(text: string | undefined): number {
  if (text === undefined) return Infinity;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(
      `--count must be a whole number of at least 1, not '${text}'`,
    );
  }
  return n;
}

/** What a `sub` run has printed so far. */
interface SubProgress {
  printed: number;
  drops: number | undefined;
  stopping: boolean;
}

/**
 * `wavemq sub`: prints and acks messages until --count or a signal. It
 * waits for the router to answer the first time; afterwards the agent
 * rides through router restarts by itself and the durable subscription
 * goes on without repeating a message. A refusal ends it.
 */
async function sub(pattern: string, o: SubOpts): Promise<void> {
  const limit = parseCount(o.count);
  const expiryMs = parseDuration(o.expiry);
  const id = o.id ?? randomUUID();
  const progress: SubProgress = {
    printed: 0,
    drops: undefined,
    stopping: false,
  };
  const agent = await connectWhenUp(o);
  agent.onStateChange(announce);
  try {
    const s = await agent.subscribe(pattern, { id, expiryMs });
    const unsubscribe = o.unsubscribe === true;
    const stop = (): void => {
      progress.stopping = true;
      void s.close({ unsubscribe }).finally(() => agent.close());
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await printMessages(s, limit, o.json, progress);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    await s.close({ unsubscribe });
  } finally {
    await agent.close();
  }
}

/** Says on stderr when the agent loses and finds its router. */
function announce(state: AgentState): void {
  if (state === 'reconnecting') {
    console.error('wavemq: lost the router; reconnecting');
  } else if (state === 'connected') {
    console.error('wavemq: reconnected');
  }
}

/** Connects, trying again with backoff while the router is not there. */
async function connectWhenUp(o: AgentOpts): Promise<Agent> {
  const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
  for (;;) {
    try {
      return await connect(o);
    } catch (err) {
      if (!isConnectFailure(err)) throw err;
      console.error(`wavemq: ${errorMessage(err)}; trying again`);
      // A plain timer: it must keep the process alive while nothing else does.
      await new Promise((resolve) => setTimeout(resolve, backoff.next()));
    }
  }
}

/** Failures a later attempt can cure, as opposed to refusals. */
function isConnectFailure(err: unknown): boolean {
  return (
    isLinkFailure(err) ||
    (err instanceof WavemqError && err.code === 'CONNECT_FAILED')
  );
}

async function printMessages(
  s: Subscription,
  limit: number,
  json: boolean | undefined,
  progress: SubProgress,
): Promise<void> {
  if (progress.printed >= limit) return;
  for await (const m of s) {
    reportDrops(progress.drops, m.drops, json);
    progress.drops = m.drops;
    console.log(formatMessage(m, json));
    s.ack(m);
    if (++progress.printed >= limit) return;
  }
  if (!progress.stopping) {
    throw new Error('the subscription ended: the agent was closed');
  }
}

/** Gaps from queue limits are said, not hidden, even in plain output. */
function reportDrops(
  before: number | undefined,
  now: number,
  json: boolean | undefined,
): void {
  if (before !== undefined && now > before) {
    console.error(
      `wavemq: ${now - before} older messages were dropped (queue limit)`,
    );
  } else if (before === undefined && now > 0 && !json) {
    console.error(
      `wavemq: this subscription has dropped ${now} messages so far (queue limit)`,
    );
  }
}

async function query(pattern: string, o: AgentOpts): Promise<void> {
  const agent = await connect(o, false);
  try {
    for (const m of await agent.query(pattern))
      console.log(formatMessage(m, o.json));
  } finally {
    await agent.close();
  }
}

async function status(o: AgentOpts): Promise<void> {
  const agent = await connect(o, false);
  try {
    const s = await agent.status();
    print(o.json, s, formatStatus(s));
  } finally {
    await agent.close();
  }
}

function formatStatus(s: Record<string, unknown>): string {
  const v = (o: Record<string, unknown>, k: string): string => {
    const x = o[k];
    return typeof x === 'number' || typeof x === 'string' ? String(x) : '-';
  };
  const lines = [
    `router ${v(s, 'router')} entity ${v(s, 'entity')}`,
    `subscriptions ${v(s, 'subscriptions')} queues ${v(s, 'queues')}`,
  ];
  for (const n of (s['namespaces'] ?? []) as Record<string, unknown>[]) {
    lines.push(
      `ns ${v(n, 'ns')}`,
      `  link ${v(n, 'link')} to ${v(n, 'address')} (attempts ` +
        `${v(n, 'connectAttempts')}, connects ${v(n, 'connects')})`,
      `  backlog ${v(n, 'backlog')} messages, ${v(n, 'backlogBytes')} ` +
        `bytes, oldest ${v(n, 'oldestAgeMs')} ms; drain ` +
        `${v(n, 'drainRate')}/s; drops ${v(n, 'drops')}`,
    );
  }
  return lines.join('\n');
}
