import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  loadProfile,
  parseProfile,
  profileNames,
  readOverrides,
} from '../../netem/index.ts';

t.test(
  'profile: the shipped profiles all load and say what the brief asks',
  async (t) => {
    const names = await profileNames();
    for (const n of [
      'cellular',
      'satellite',
      'lossy',
      'outage',
      'flapping',
      'rebind',
      'blackhole',
    ]) {
      t.ok(names.includes(n), `${n} is shipped`);
    }
    for (const n of names) {
      const p = await loadProfile(n);
      t.ok(p.description.length > 0, `${n} describes itself`);
    }
    const cellular = await loadProfile('cellular');
    t.match(cellular.up, {
      delayMs: 100,
      jitterMs: 50,
      lossPercent: 3,
      rateBitsPerSecond: 5_000_000,
    });
    t.same(cellular.down, cellular.up, 'both directions alike');
    const sat = await loadProfile('satellite');
    t.equal(sat.up.delayMs + sat.down.delayMs, 600, '600 ms round trip');
    t.match(sat.up, { lossPercent: 1, rateBitsPerSecond: 2_000_000 });
    t.match((await loadProfile('lossy')).up, { lossPercent: 10 });
    t.ok((await loadProfile('lossy')).up.reorderPercent > 0, 'lossy reorders');
    t.same((await loadProfile('flapping')).schedule, [
      {
        kind: 'flapping',
        startMs: 15_000,
        periodMs: 20_000,
        downMs: 5_000,
        direction: 'both',
      },
    ]);
    t.same((await loadProfile('rebind')).schedule, [
      { kind: 'rebind', startMs: 30_000, everyMs: 30_000 },
    ]);
  },
);

t.test(
  'profile: defaults fill every field, the rate queue follows the rate',
  async (t) => {
    const p = parseProfile('empty', {});
    t.same(p.up, {
      delayMs: 0,
      jitterMs: 0,
      jitterDistribution: 'uniform',
      lossPercent: 0,
      lossBurst: undefined,
      duplicatePercent: 0,
      reorderPercent: 0,
      rateBitsPerSecond: 0,
      rateQueueBytes: 65_536,
      limitPackets: 1_000,
    });
    const fast = parseProfile('fast', { both: { rateBitsPerSecond: 10e6 } });
    t.equal(fast.up.rateQueueBytes, 250_000, '200 ms at 10 Mbit/s');
  },
);

t.test('profile: up and down override both', async (t) => {
  const p = parseProfile('x', {
    both: { delayMs: 10, lossPercent: 1 },
    up: { delayMs: 30 },
  });
  t.equal(p.up.delayMs, 30);
  t.equal(p.down.delayMs, 10);
  t.equal(p.up.lossPercent, 1);
});

t.test('profile: errors name the profile and the field', async (t) => {
  const bad: [unknown, string, RegExp][] = [
    [{ up: { lossPercent: 101 } }, 'up.lossPercent', /from 0 to 100/],
    [{ both: { delayMs: -1 } }, 'both.delayMs', /from 0/],
    [{ down: { lossPrecent: 1 } }, 'down.lossPrecent', /not a known field/],
    [
      { up: { jitterDistribution: 'pareto' } },
      'up.jitterDistribution',
      /one of uniform, normal/,
    ],
    [{ up: { rateBitsPerSecond: 1.5 } }, 'up.rateBitsPerSecond', /integer/],
    [{ up: { reorderPercent: 5 } }, 'up.reorderPercent', /needs delayMs/],
    [
      {
        up: {
          lossPercent: 1,
          lossBurst: { goodToBadPercent: 1, badToGoodPercent: 2 },
        },
      },
      'up.lossBurst',
      /cannot be used with lossPercent/,
    ],
    [
      { up: { lossBurst: { goodToBadPercent: 1 } } },
      'up.lossBurst.badToGoodPercent',
      /required/,
    ],
    [
      { schedule: [{ kind: 'outage', startMs: 1 }] },
      'schedule[0].durationMs',
      /required/,
    ],
    [{ schedule: [{ kind: 'flap' }] }, 'schedule[0].kind', /one of/],
    [
      { schedule: [{ kind: 'flapping', periodMs: 10, downMs: 10 }] },
      'schedule[0].downMs',
      /below periodMs/,
    ],
    [
      { schedule: [{ kind: 'rebind', everyMs: 5 }] },
      'schedule[0].everyMs',
      /from 100/,
    ],
    [{ schedule: {} }, 'schedule', /array/],
    [[], '(top)', /object/],
  ];
  for (const [json, field, problem] of bad) {
    const err = (() => {
      try {
        parseProfile('mine', json);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    t.match(
      err,
      { code: 'NETEM_PROFILE_INVALID', data: { profile: 'mine', field } },
      field,
    );
    t.match((err as Error).message, problem, `${field}: message says why`);
    t.match(
      (err as Error).message,
      `profile "mine": ${field}`,
      `${field}: message names it`,
    );
  }
});

t.test('profile: overrides move scheduled windows or add them', async (t) => {
  const outage = await loadProfile('outage', {
    outageStartMs: 100,
    outageMs: 50,
  });
  t.same(outage.schedule, [
    { kind: 'outage', startMs: 100, durationMs: 50, direction: 'both' },
  ]);
  const added = await loadProfile('cellular', { blackholeMs: 2000 });
  t.same(added.schedule, [
    { kind: 'blackhole', startMs: 0, durationMs: 2000, direction: 'both' },
  ]);
  const rebind = await loadProfile('rebind', { rebindEveryMs: 500 });
  t.same(rebind.schedule, [{ kind: 'rebind', startMs: 500, everyMs: 500 }]);
  const flap = await loadProfile('flapping', {
    flapPeriodMs: 1000,
    flapDownMs: 200,
    flapStartMs: 0,
  });
  t.match(flap.schedule[0], { startMs: 0, periodMs: 1000, downMs: 200 });
  const lossier = await loadProfile('cellular', { up: { lossPercent: 20 } });
  t.equal(lossier.up.lossPercent, 20);
  t.equal(lossier.down.lossPercent, 3);
  await t.rejects(loadProfile('cellular', { outageStartMs: 5 }), {
    code: 'NETEM_PROFILE_INVALID',
    data: { field: 'overrides.outageMs' },
  });
  await t.rejects(loadProfile('flapping', { flapDownMs: 20_000 }), {
    code: 'NETEM_PROFILE_INVALID',
    data: { field: 'overrides.flapDownMs' },
  });
  await t.rejects(loadProfile('rebind', { rebindEveryMs: 10 }), {
    code: 'NETEM_PROFILE_INVALID',
    data: { field: 'overrides.rebindEveryMs' },
  });
});

t.test('profile: readOverrides checks caller input like a file', async (t) => {
  t.same(readOverrides('x', { outageMs: 5, up: { delayMs: 3 } }), {
    outageMs: 5,
    up: { delayMs: 3 },
  });
  t.throws(() => readOverrides('x', { outageSeconds: 5 }), {
    code: 'NETEM_PROFILE_INVALID',
    data: { field: 'overrides.outageSeconds' },
  });
  t.throws(() => readOverrides('x', { up: { delayMs: 'slow' } }), {
    code: 'NETEM_PROFILE_INVALID',
    data: { field: 'overrides.up.delayMs' },
  });
});

t.test(
  'profile: files by path, extends chains, and unknown names',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'wmq-profiles-'));
    t.teardown(() => rmSync(dir, { recursive: true }));
    const file = join(dir, 'site-a.json');
    writeFileSync(
      file,
      JSON.stringify({
        extends: 'cellular',
        description: 'cellular with a morning outage',
        up: { lossPercent: 5 },
        schedule: [{ kind: 'outage', startMs: 1000, durationMs: 100 }],
      }),
    );
    const p = await loadProfile(file);
    t.equal(p.name, file);
    t.equal(p.up.lossPercent, 5, 'own field wins');
    t.equal(p.up.delayMs, 100, 'the rest comes from cellular');
    t.equal(p.down.lossPercent, 3);
    t.equal(p.schedule.length, 1);
    const loop = join(dir, 'loop.json');
    writeFileSync(loop, JSON.stringify({ extends: loop }));
    await t.rejects(loadProfile(loop), {
      code: 'NETEM_PROFILE_INVALID',
      data: { field: 'extends' },
    });
    writeFileSync(
      join(dir, 'site-b.json'),
      JSON.stringify({ extends: 'site-a.json', up: { lossPercent: 7 } }),
    );
    const b = await loadProfile(join(dir, 'site-b.json'));
    t.equal(b.up.lossPercent, 7, 'a relative extends counts from its file');
    t.equal(b.schedule.length, 1, 'and brings that file in');
    writeFileSync(join(dir, 'broken.json'), '{ nope');
    await t.rejects(loadProfile(join(dir, 'broken.json')), {
      code: 'NETEM_PROFILE_INVALID',
      data: { field: '(file)' },
    });
    await t.rejects(loadProfile('no-such-profile'), {
      code: 'NETEM_PROFILE_NOT_FOUND',
      message: /shipped: .*cellular/,
    });
    t.throws(() => parseProfile('x', { extends: 'cellular' }), {
      code: 'NETEM_PROFILE_INVALID',
      data: { field: 'extends' },
    });
  },
);
