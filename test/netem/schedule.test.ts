import t from 'tap';
import {
  ManualScheduler,
  TimerScheduler,
  nextRebindMs,
  nextStateChangeMs,
  scheduledState,
  type ScheduleEntry,
} from '../../netem/index.ts';

const flap: ScheduleEntry = {
  kind: 'flapping',
  startMs: 1000,
  periodMs: 400,
  downMs: 100,
  direction: 'both',
};

t.test(
  'schedule: a window is down from its start up to (not at) its end',
  async (t) => {
    const s: ScheduleEntry[] = [
      { kind: 'outage', startMs: 100, durationMs: 50, direction: 'both' },
    ];
    const at = (ms: number) => scheduledState(s, 'up', ms);
    t.same(
      [at(99), at(100), at(149), at(150)],
      ['up', 'outage', 'outage', 'up'],
    );
  },
);

t.test('schedule: flapping repeats its down time every period', async (t) => {
  const at = (ms: number) => scheduledState([flap], 'down', ms);
  t.equal(at(999), 'up', 'nothing before the start');
  t.same([1000, 1099, 1100, 1399, 1400, 1499, 1500, 9000, 9099].map(at), [
    'flapping',
    'flapping',
    'up',
    'up',
    'flapping',
    'flapping',
    'up',
    'flapping',
    'flapping',
  ]);
});

t.test(
  'schedule: direction limits an entry, and an outage outranks the rest',
  async (t) => {
    const s: ScheduleEntry[] = [
      { kind: 'blackhole', startMs: 0, durationMs: 100, direction: 'up' },
      { kind: 'outage', startMs: 50, durationMs: 10, direction: 'both' },
      { ...flap, startMs: 0, periodMs: 1000, downMs: 80 },
    ];
    t.equal(scheduledState(s, 'up', 10), 'flapping', 'flapping over blackhole');
    t.equal(scheduledState(s, 'up', 55), 'outage');
    t.equal(scheduledState(s, 'up', 90), 'blackhole');
    t.equal(scheduledState(s, 'down', 90), 'up', 'the blackhole is one-way');
    t.equal(scheduledState([], 'up', 5), 'up');
  },
);

t.test('schedule: the next state change and the next rebind', async (t) => {
  const s: ScheduleEntry[] = [
    { kind: 'outage', startMs: 500, durationMs: 100, direction: 'both' },
    flap,
  ];
  t.equal(nextStateChangeMs(s, 0), 500);
  t.equal(nextStateChangeMs(s, 500), 600);
  t.equal(nextStateChangeMs(s, 600), 1000);
  t.equal(nextStateChangeMs(s, 1000), 1100);
  t.equal(nextStateChangeMs(s, 1100), 1400);
  t.equal(nextStateChangeMs([], 0), undefined);
  const r: ScheduleEntry[] = [{ kind: 'rebind', startMs: 300, everyMs: 200 }];
  t.same(
    [0, 299, 300, 301, 500, 10_050].map((e) => nextRebindMs(r, e)),
    [300, 300, 500, 500, 700, 10_100],
  );
  t.equal(nextRebindMs(s, 0), undefined);
});

t.test(
  'scheduler: manual time runs callbacks in time order, ties in order given',
  async (t) => {
    const m = new ManualScheduler(0);
    const ran: string[] = [];
    m.at(20, () => ran.push('b'));
    m.at(10, () => ran.push('a'));
    m.at(20, () => ran.push('c'));
    const cancel = m.at(15, () => ran.push('cancelled'));
    m.at(30, () => {
      ran.push(`d@${m.now()}`);
      m.at(m.now() + 5, () => ran.push(`e@${m.now()}`));
    });
    cancel();
    t.equal(m.pending, 4);
    m.advanceBy(34);
    t.same(ran, ['a', 'b', 'c', 'd@30']);
    m.advanceBy(1);
    t.same(ran.at(-1), 'e@35', 'a callback may schedule another');
    t.equal(m.pending, 0);
  },
);

t.test(
  'scheduler: real timers fire in order, never early, and clear() stops them',
  async (t) => {
    const s = new TimerScheduler();
    const ran: { id: number; lateMs: number }[] = [];
    const start = s.now();
    for (const [id, delayMs] of [
      [1, 30],
      [2, 10],
      [3, 20],
    ] as const) {
      s.at(start + delayMs, () =>
        ran.push({ id, lateMs: s.now() - (start + delayMs) }),
      );
    }
    const never = s.at(start + 15, () => ran.push({ id: 99, lateMs: 0 }));
    never();
    await new Promise((r) => setTimeout(r, 60));
    t.same(
      ran.map((r) => r.id),
      [2, 3, 1],
    );
    t.ok(
      ran.every((r) => r.lateMs >= 0 && r.lateMs < 15),
      'on time',
    );
    s.at(s.now() + 10, () => ran.push({ id: 4, lateMs: 0 }));
    s.clear();
    await new Promise((r) => setTimeout(r, 30));
    t.equal(ran.length, 3, 'cleared callbacks never ran');
  },
);
