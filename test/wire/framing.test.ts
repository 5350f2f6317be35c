import t from 'tap';
import fc from 'fast-check';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameTooLargeError,
  MalformedFrameError,
  TruncatedFrameError,
  encodeFrame,
  encodeFrames,
} from '../../src/wire/index.ts';

/** A CBOR-friendly value: what frames carry. */
const frameValue = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(
      fc.string().filter((k) => k !== '__proto__'),
      tie('node'),
      { maxKeys: 4 },
    ),
  ),
})).node;

/** Splits `bytes` at the given cut points. */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
    (a, b) => a - b,
  );
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

function header(size: number): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, size, false);
  return h;
}

void t.test('framing: one frame is a BE length then the CBOR body', (t) => {
  const frame = encodeFrame({ t: 'x' });
  const size = new DataView(frame.buffer, frame.byteOffset).getUint32(0);
  t.equal(size, frame.byteLength - 4);
  t.same(new FrameDecoder().push(frame), [{ t: 'x' }]);
  t.end();
});

void t.test('framing: random chunking decodes identically', (t) => {
  fc.assert(
    fc.property(
      fc.array(frameValue, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (values, cuts) => {
        const bytes = encodeFrames(values);
        const decoder = new FrameDecoder();
        const out: unknown[] = [];
        for (const c of chunk(bytes, cuts)) out.push(...decoder.push(c));
        decoder.end();
        const want = new FrameDecoder().push(encodeFrames(values));
        if (JSON.stringify(out) !== JSON.stringify(want)) {
          throw new Error('chunked decode differs');
        }
        if (out.length !== values.length) throw new Error('frame count');
      },
    ),
    { numRuns: 300 },
  );
  t.end();
});

void t.test('framing: random bytes never crash, only throw ours', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 6 }),
      (chunks) => {
        const decoder = new FrameDecoder({ maxFrameBytes: 64 });
        try {
          for (const c of chunks) decoder.push(c);
          decoder.end();
        } catch (err) {
          const ours =
            err instanceof FrameTooLargeError ||
            err instanceof MalformedFrameError;
          if (!ours) throw err;
        }
      },
    ),
    { numRuns: 3000 },
  );
  t.end();
});

void t.test('framing: well-framed random bodies decode or throw ours', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (bodies, cuts) => {
        const bytes = Buffer.concat(
          bodies.flatMap((b) => [header(b.length), b]),
        );
        const decoder = new FrameDecoder();
        try {
          for (const c of chunk(bytes, cuts)) decoder.push(c);
          decoder.end();
        } catch (err) {
          if (!(err instanceof MalformedFrameError)) throw err;
        }
      },
    ),
    { numRuns: 3000 },
  );
  t.end();
});

void t.test('framing: oversized length is refused before the body', (t) => {
  const decoder = new FrameDecoder({ maxFrameBytes: 100 });
  const err = t.throws(() => decoder.push(header(101))) as FrameTooLargeError;
  t.type(err, FrameTooLargeError);
  t.equal(err.code, 'FRAME_TOO_LARGE');
  t.same(err.data, { size: 101, max: 100 });
  t.equal(
    err.message,
    'frame of 101 bytes exceeds the frame size limit of 100 bytes',
    'the message names the declared length and the limit',
  );
  t.equal(decoder.bufferedBytes, 0, 'nothing is kept after the error');
  t.throws(() => decoder.push(new Uint8Array([1])), FrameTooLargeError);
  t.equal(new FrameDecoder().maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  t.end();
});

void t.test('framing: garbage body gives MalformedFrameError', (t) => {
  const bytes = new Uint8Array([...header(2), 0xff, 0xff]);
  const err = t.throws(() => new FrameDecoder().push(bytes));
  t.type(err, MalformedFrameError);
  t.equal((err as MalformedFrameError).code, 'MALFORMED_FRAME');
  t.equal((err as MalformedFrameError).data.reason, 'cbor');
  const empty = t.throws(() => new FrameDecoder().push(header(0)));
  t.equal((empty as MalformedFrameError).data.reason, 'empty');
  t.end();
});

void t.test('framing: good frames before a bad one are still returned', (t) => {
  const bytes = Buffer.concat([
    encodeFrames([1, 2]),
    header(1),
    Buffer.from([0xff]),
  ]);
  const decoder = new FrameDecoder();
  t.same(decoder.push(bytes), [1, 2]);
  t.type(decoder.error, MalformedFrameError, 'the failure is visible');
  t.throws(() => decoder.push(new Uint8Array(0)), MalformedFrameError);
  t.throws(() => decoder.end(), MalformedFrameError);
  t.end();
});

void t.test('framing: a stream ending mid-frame is truncated', (t) => {
  const frame = encodeFrame({ hello: 'world' });
  for (const cut of [1, 3, 4, frame.length - 1]) {
    const decoder = new FrameDecoder();
    t.same(decoder.push(frame.subarray(0, cut)), []);
    const err = t.throws(() => decoder.end());
    t.type(err, TruncatedFrameError);
    t.type(err, MalformedFrameError, 'one catch covers both');
    t.equal((err as TruncatedFrameError).code, 'TRUNCATED_FRAME');
  }
  const clean = new FrameDecoder();
  clean.push(frame);
  t.doesNotThrow(() => clean.end());
  t.end();
});

void t.test('framing: encoder refuses bodies over the limit', (t) => {
  t.throws(
    () => encodeFrame(new Uint8Array(200), { maxFrameBytes: 100 }),
    FrameTooLargeError,
  );
  t.throws(() => encodeFrame(new Uint8Array(200), { maxFrameBytes: 100 }), {
    code: 'FRAME_TOO_LARGE',
    // 200 bytes of payload and a 2-byte CBOR byte-string head.
    message: 'frame of 202 bytes exceeds the frame size limit of 100 bytes',
    data: { size: 202, max: 100 },
  });
  t.throws(() => encodeFrames([1, 'x'.repeat(200)], { maxFrameBytes: 50 }));
  t.throws(() => new FrameDecoder({ maxFrameBytes: 0 }), RangeError);
  t.end();
});

void t.test('framing: decoded bytes do not alias the caller chunk', (t) => {
  const chunkBytes = Buffer.from(encodeFrame({ b: Buffer.from([9, 9]) }));
  const [frame] = new FrameDecoder().push(chunkBytes) as [{ b: Buffer }];
  chunkBytes.fill(0);
  t.same([...frame.b], [9, 9]);
  t.end();
});
