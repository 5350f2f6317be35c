import t from 'tap';
import { attemptTimeoutMs } from '../../src/router/uplink.ts';

t.test(
  'uplink: an attempt right after a link ended is bounded by its round trip',
  async (t) => {
    t.equal(
      attemptTimeoutMs(0, 5000),
      5000,
      'no round trip known: the maximum',
    );
    t.equal(attemptTimeoutMs(5, 5000), 2000, 'loopback: the 2 s floor');
    t.equal(attemptTimeoutMs(250, 5000), 2500, 'cellular: 4 RTT + 1.5 s');
    t.equal(attemptTimeoutMs(1300, 5000), 5000, 'satellite: the maximum');
    t.equal(attemptTimeoutMs(250, 1000), 1000, 'never above the maximum');
    t.equal(
      attemptTimeoutMs(Number.NaN, 5000),
      5000,
      'a bad figure is ignored',
    );
  },
);
