import t from 'tap';
import { Semaphore } from '../../src/transport/semaphore.ts';

const make = (permits: number, maxWaiters = 10) =>
  new Semaphore({
    permits,
    maxWaiters,
    queueFullError: () => new Error('queue full'),
  });

void t.test('semaphore: waiters get slots in FIFO order', async (t) => {
  const s = make(1);
  await s.acquire();
  const order: number[] = [];
  const waits = [1, 2, 3].map((n) => s.acquire().then(() => order.push(n)));
  t.equal(s.waiting, 3);
  for (let i = 0; i < 3; i++) s.release();
  await Promise.all(waits);
  t.same(order, [1, 2, 3]);
  s.release();
  t.equal(s.free, 1);
});

void t.test('semaphore: an aborted wait leaves the queue', async (t) => {
  const s = make(1);
  await s.acquire();
  const ac = new AbortController();
  const waiting = s.acquire(ac.signal);
  ac.abort(new Error('stop'));
  await t.rejects(waiting, /stop/);
  t.equal(s.waiting, 0);
  s.release();
  t.equal(s.free, 1, 'the slot was not handed to the aborted waiter');
});

void t.test('semaphore: refuses waiters past the bound', async (t) => {
  const s = make(1, 1);
  await s.acquire();
  const first = s.acquire();
  await t.rejects(s.acquire(), /queue full/);
  s.release();
  await first;
});

void t.test('semaphore: fail rejects waiters and later calls', async (t) => {
  const s = make(1);
  await s.acquire();
  const waiting = s.acquire();
  s.fail(new Error('closed'));
  await t.rejects(waiting, /closed/);
  await t.rejects(s.acquire(), /closed/);
  t.throws(() => make(0), RangeError);
});
