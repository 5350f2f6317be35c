import t from 'tap';
import {
  FrameFieldError,
  parseAgentFrame,
  parseWireMessage,
} from '../../src/wire/frames.ts';

const sig = {
  root: Buffer.alloc(32),
  signature: Buffer.alloc(64),
  index: 0,
  path: [],
};
const msg = {
  ns: 'ns',
  uri: 'a/b',
  payloads: [{ schema: 'text', content: Buffer.from('x') }],
  publisher: 'p',
  origin: 'r',
  session: 's',
  seq: 1,
  ts: 2,
  persist: false,
  proofHash: 'h',
  sig,
};

t.test('frames: a well-formed pub frame parses', async (t) => {
  const f = parseAgentFrame({ t: 'pub', id: 7, msgs: [msg] });
  t.equal(f.t, 'pub');
  if (f.t === 'pub') t.equal(f.msgs[0]?.uri, 'a/b');
});

t.test('frames: each bad field is named in the error', async (t) => {
  const cases: [unknown, string][] = [
    [{ t: 'pub', id: -1, msgs: [] }, 'id'],
    [{ t: 'pub', id: 1, msgs: 'x' }, 'msgs'],
    [{ t: 'pub', id: 1, msgs: [{ ...msg, seq: 1.5 }] }, 'seq'],
    [{ t: 'pub', id: 1, msgs: [{ ...msg, persist: 'yes' }] }, 'persist'],
    [
      { t: 'pub', id: 1, msgs: [{ ...msg, sig: { ...sig, root: 'r' } }] },
      'root',
    ],
    [{ t: 'sub', req: { kind: 'publish' } }, 'req.kind'],
    [{ t: 'nope' }, 't'],
    [42, 'frame'],
  ];
  for (const [value, field] of cases) {
    const err = t.throws(() => parseAgentFrame(value)) as FrameFieldError;
    t.ok(err instanceof FrameFieldError, `${field}: typed error`);
    t.equal(err.data.field, field, `names field ${field}`);
  }
});

t.test(
  'frames: optional proof and entity are kept only when bytes',
  async (t) => {
    const m = parseWireMessage({ ...msg, proof: Buffer.from('p') });
    t.ok(m.proof instanceof Uint8Array);
    t.equal(m.entity, undefined);
    t.throws(() => parseWireMessage({ ...msg, entity: 'e' }), FrameFieldError);
  },
);
