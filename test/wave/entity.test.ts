import t from 'tap';
import { ManualClock } from '../../src/common/clock.ts';
import {
  Entity,
  InvalidArgumentError,
  MalformedObjectError,
  ObjectSignatureError,
  PassphraseRequiredError,
  PublicEntity,
  revocationCommitment,
  WrongPassphraseError,
  DEFAULT_ENTITY_EXPIRY_MS,
  DEFAULT_BACKDATE_MS,
} from '../../src/wave/index.ts';
import { dearmor, armor, LABELS } from '../../src/wave/armor.ts';
import { decode, encode } from '../../src/wire/index.ts';
import { flip } from './fixtures.ts';

const msg = new TextEncoder().encode('hello');

void t.test('entity: public part round trips and keeps its hash', (t) => {
  const e = Entity.create();
  const pub = PublicEntity.decode(e.publicEntity.bytes);
  t.equal(pub.hash, e.hash);
  t.equal(pub.signingKey.length, 32);
  t.equal(pub.encryptionKey.length, 32);
  t.equal(pub.revocationCommitment.length, 32);
  t.same(
    [...pub.revocationCommitment],
    [...revocationCommitment(e.revocationSecret)],
  );
  t.ok(pub.verify(msg, e.sign(msg)));
  t.notOk(pub.verify(msg, Entity.create().sign(msg)));
  t.end();
});

void t.test('entity: validity window defaults and options', (t) => {
  const clock = new ManualClock();
  const now = clock.now();
  const e = Entity.create({ clock });
  t.equal(e.publicEntity.notBeforeMs, now - DEFAULT_BACKDATE_MS);
  t.equal(e.publicEntity.notAfterMs, now + DEFAULT_ENTITY_EXPIRY_MS);
  const f = Entity.create({ clock, notBeforeMs: now + 10, expiryMs: 1000 });
  t.equal(f.publicEntity.notBeforeMs, now + 10);
  t.equal(f.publicEntity.notAfterMs, now + 1000);
  t.throws(() => Entity.create({ clock, expiryMs: 0 }), InvalidArgumentError);
  t.throws(() => Entity.create({ clock, expiryMs: 1.5 }), InvalidArgumentError);
  t.throws(
    () => Entity.create({ clock, notBeforeMs: now + 2000, expiryMs: 1000 }),
    { message: /notBeforeMs is not before expiry/ },
  );
  t.end();
});

void t.test('entity: secret file round trips without a passphrase', (t) => {
  const e = Entity.create();
  const text = e.encodeSecret();
  t.match(text, /^-----BEGIN WAVEMQ ENTITY SECRET-----\n/);
  const back = Entity.decodeSecret(text);
  t.equal(back.hash, e.hash);
  t.same([...back.signingSeed], [...e.signingSeed]);
  t.ok(e.publicEntity.verify(msg, back.sign(msg)));
  t.end();
});

void t.test('entity: sealed secret file needs the right passphrase', (t) => {
  const e = Entity.create();
  const text = e.encodeSecret('correct horse');
  t.notMatch(text, /correct horse/);
  const back = Entity.decodeSecret(text, 'correct horse');
  t.equal(back.hash, e.hash);
  t.same([...back.revocationSecret], [...e.revocationSecret]);
  t.throws(() => Entity.decodeSecret(text), PassphraseRequiredError);
  try {
    Entity.decodeSecret(text, 'wrong horse');
    t.fail('opened with the wrong passphrase');
  } catch (err) {
    t.type(err, WrongPassphraseError);
    t.match(
      (err as Error).message,
      `wrong passphrase for entity secret ${e.hash}`,
    );
    t.notMatch((err as Error).message, /horse/);
  }
  t.throws(() => e.encodeSecret(''), InvalidArgumentError);
  t.end();
});

void t.test(
  'entity: a sealed file keeps keys unreadable without the key',
  (t) => {
    const e = Entity.create();
    const { bytes } = dearmor(e.encodeSecret('pw'));
    const body = decode(bytes) as Record<string, unknown>;
    t.equal(body['keys'], undefined);
    const sealed = body['sealed'] as Record<string, unknown>;
    t.equal(sealed['kdf'], 'argon2id13');
    const raw = Buffer.from(sealed['box'] as Uint8Array);
    t.equal(raw.indexOf(Buffer.from(e.signingSeed)), -1);
    t.end();
  },
);

void t.test('entity: hostile KDF cost in a sealed file is refused', (t) => {
  const e = Entity.create();
  const { bytes } = dearmor(e.encodeSecret('pw'));
  const body = decode(bytes) as Record<string, Record<string, unknown>>;
  body['sealed']!['memLimitBytes'] = 8 * 1024 ** 3;
  const text = armor(LABELS.entitySecret, encode(body));
  t.throws(() => Entity.decodeSecret(text, 'pw'), MalformedObjectError);
  t.end();
});

void t.test(
  'entity: every single-byte change to the public entity is caught',
  (t) => {
    const bytes = Entity.create().publicEntity.bytes;
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        try {
          PublicEntity.decode(flip(bytes, i, mask));
          t.fail(`byte ${i} ^ ${mask} accepted`);
        } catch (err) {
          if (!(
            err instanceof MalformedObjectError ||
            err instanceof ObjectSignatureError
          ))
            throw err;
        }
      }
    }
    t.pass(`${bytes.length} positions checked`);
    t.end();
  },
);

void t.test(
  'entity: a secret file with keys of another entity is refused',
  (t) => {
    const a = Entity.create();
    const b = Entity.create();
    const ba = decode(dearmor(a.encodeSecret()).bytes) as Record<
      string,
      unknown
    >;
    const bb = decode(dearmor(b.encodeSecret()).bytes) as Record<
      string,
      unknown
    >;
    ba['keys'] = bb['keys'];
    const text = armor(LABELS.entitySecret, encode(ba));
    t.throws(() => Entity.decodeSecret(text), {
      message: `keys do not belong to entity ${a.hash}`,
    });
    t.end();
  },
);

void t.test('entity: a public file is not a secret file', (t) => {
  const e = Entity.create();
  t.throws(() => Entity.decodeSecret(e.publicEntity.encodeFile()), {
    message: /holds WAVEMQ ENTITY, expected WAVEMQ ENTITY SECRET/,
  });
  t.throws(
    () => PublicEntity.decode(new Uint8Array([1, 2, 3])),
    MalformedObjectError,
  );
  t.end();
});
