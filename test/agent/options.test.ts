import t from 'tap';
import { resolveReconnect } from '../../src/agent/options.ts';

t.test('agent options: reconnecting is on by default, 100 ms to 5 s', (t) => {
  const defaults = { initialDelayMs: 100, maxDelayMs: 5000 };
  t.same(resolveReconnect(undefined), defaults);
  t.same(resolveReconnect(true), defaults);
  t.same(resolveReconnect({ initialDelayMs: 20 }), {
    initialDelayMs: 20,
    maxDelayMs: 5000,
  });
  t.same(resolveReconnect({ initialDelayMs: 8000 }), {
    initialDelayMs: 8000,
    maxDelayMs: 8000,
  });
  t.equal(resolveReconnect(false), false);
  t.end();
});

t.test('agent options: bad reconnect delays are refused by name', (t) => {
  for (const [bad, named] of [
    [{ initialDelayMs: 0 }, 'reconnect.initialDelayMs'],
    [{ initialDelayMs: Number.NaN }, 'reconnect.initialDelayMs'],
    [{ maxDelayMs: -1 }, 'reconnect.maxDelayMs'],
    [{ maxDelayMs: Infinity }, 'reconnect.maxDelayMs'],
    [{ initialDelayMs: 500, maxDelayMs: 100 }, 'reconnect.maxDelayMs'],
  ] as const) {
    t.throws(
      () => resolveReconnect(bad),
      {
        name: 'AgentOptionError',
        code: 'AGENT_OPTION',
        data: { option: named },
      },
      JSON.stringify(bad),
    );
  }
  t.end();
});
