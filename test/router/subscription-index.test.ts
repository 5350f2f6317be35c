import t from 'tap';
import fc from 'fast-check';
import { SubscriptionIndex } from '../../src/router/subscription-index.ts';
import type { QueueId } from '../../src/common/ids.ts';

// Reference matcher: `+` is one segment, `*` zero or more, by recursion.
function oracle(pattern: string[], uri: string[]): boolean {
  if (pattern.length === 0) return uri.length === 0;
  const [head, ...rest] = pattern;
  if (head === '*') {
    for (let i = 0; i <= uri.length; i++) {
      if (oracle(rest, uri.slice(i))) return true;
    }
    return false;
  }
  if (uri.length === 0) return false;
  return (head === '+' || head === uri[0]) && oracle(rest, uri.slice(1));
}

const seg = fc.constantFrom('a', 'b', 'c');
const uriArb = fc.array(seg, { minLength: 1, maxLength: 5 });
const patternArb = fc
  .array(fc.constantFrom('a', 'b', '+'), { minLength: 0, maxLength: 4 })
  .chain((segs) =>
    fc.oneof(
      fc.constant(segs),
      fc
        .nat(segs.length)
        .map((i) => [...segs.slice(0, i), '*', ...segs.slice(i)]),
    ),
  )
  .filter((p) => p.length > 0);

t.test(
  'subscription index: matches exactly the patterns the reference accepts',
  async (t) => {
    fc.assert(
      fc.property(
        fc.array(patternArb, { minLength: 1, maxLength: 8 }),
        uriArb,
        (patterns, uri) => {
          const idx = new SubscriptionIndex();
          patterns.forEach((p, i) =>
            idx.add('ns', p.join('/'), `q${i}` as QueueId),
          );
          const got = idx.match('ns', uri.join('/'));
          patterns.forEach((p, i) => {
            if (got.has(`q${i}` as QueueId) !== oracle(p, uri)) {
              throw new Error(`pattern ${p.join('/')} vs ${uri.join('/')}`);
            }
          });
        },
      ),
      { numRuns: 500 },
    );
    t.pass('500 random pattern sets agree with the reference matcher');
  },
);

t.test('subscription index: namespaces are separate', async (t) => {
  const idx = new SubscriptionIndex();
  idx.add('ns1', 'a/*', 'q1' as QueueId);
  t.same([...idx.match('ns2', 'a/b')], []);
  t.same([...idx.match('ns1', 'a/b')], ['q1']);
});

t.test(
  'subscription index: removing a queue stops matches and prunes',
  async (t) => {
    const idx = new SubscriptionIndex();
    idx.add('ns', 'a/+/c', 'q1' as QueueId);
    idx.add('ns', 'a/*', 'q2' as QueueId);
    idx.remove('q1' as QueueId);
    t.same([...idx.match('ns', 'a/b/c')], ['q2']);
    idx.remove('q2' as QueueId);
    t.equal(idx.size, 0);
    t.same([...idx.match('ns', 'a/b/c')], []);
  },
);

t.test(
  'subscription index: re-adding a queue moves it to the new pattern',
  async (t) => {
    const idx = new SubscriptionIndex();
    idx.add('ns', 'a', 'q1' as QueueId);
    idx.add('ns', 'b', 'q1' as QueueId);
    t.same([...idx.match('ns', 'a')], []);
    t.same([...idx.match('ns', 'b')], ['q1']);
  },
);
