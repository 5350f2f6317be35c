import t from 'tap';
import fc from 'fast-check';
import {
  idOfKey,
  itemKey,
  itemRangeEnd,
  seqOfItemKey,
} from '../../src/queue/keys.ts';

const seqArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const idArb = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });

void t.test('queue keys: byte order of item keys is numeric seq order', (t) => {
  fc.assert(
    fc.property(idArb, seqArb, seqArb, (id, a, b) => {
      const order = Buffer.compare(itemKey(id, a), itemKey(id, b));
      return Math.sign(order) === Math.sign(a - b);
    }),
    { numRuns: 2000 },
  );
  // The decimal keys of old stopped sorting at 10^8; these do not.
  t.ok(Buffer.compare(itemKey('q', 99_999_999), itemKey('q', 100_000_000)) < 0);
  t.ok(Buffer.compare(itemKey('q', 2 ** 32 - 1), itemKey('q', 2 ** 32)) < 0);
  t.end();
});

void t.test(
  "queue keys: one queue id never falls inside another id's range",
  (t) => {
    fc.assert(
      fc.property(idArb, idArb, seqArb, (a, b, seq) => {
        fc.pre(a !== b);
        const k = itemKey(b, seq);
        const inside =
          Buffer.compare(k, itemKey(a, 0)) >= 0 &&
          Buffer.compare(k, itemRangeEnd(a)) <= 0;
        return !inside;
      }),
      { numRuns: 2000 },
    );
    t.pass('ranges are disjoint');
    t.end();
  },
);

void t.test('queue keys: id and seq read back from an item key', (t) => {
  fc.assert(
    fc.property(idArb, seqArb, (id, seq) => {
      const k = itemKey(id, seq);
      return idOfKey(k) === id && seqOfItemKey(k) === seq && k[0] === 0x04;
    }),
  );
  t.pass('round trip');
  t.end();
});
