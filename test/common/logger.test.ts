import t from 'tap';
import {
  LOG_LEVEL_ENV,
  LogLevelError,
  createLogger,
} from '../../src/common/logger.ts';

/** Runs `f` with WAVEMQ_LOG_LEVEL set to `value`, then restores it. */
function withLevel<T>(value: string, f: () => T): T {
  const before = process.env[LOG_LEVEL_ENV];
  process.env[LOG_LEVEL_ENV] = value;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env[LOG_LEVEL_ENV];
    else process.env[LOG_LEVEL_ENV] = before;
  }
}

t.test('logger: WAVEMQ_LOG_LEVEL sets the level', async (t) => {
  t.equal(
    withLevel('debug', () => createLogger().level),
    'debug',
  );
  t.equal(
    withLevel('', () => createLogger().level),
    'info',
    'empty is unset',
  );
});

t.test(
  'logger: an unknown WAVEMQ_LOG_LEVEL is refused naming the variable and the levels',
  async (t) => {
    t.throws(() => withLevel('loud', () => createLogger()), {
      name: 'LogLevelError',
      code: 'LOG_LEVEL_INVALID',
      message:
        'WAVEMQ_LOG_LEVEL="loud" is not a log level; use one of silent, ' +
        'fatal, error, warn, info, debug, trace',
      data: { source: 'WAVEMQ_LOG_LEVEL', level: 'loud' },
    });
    t.type(
      t.throws(() => withLevel('loud', () => createLogger())),
      LogLevelError,
    );
  },
);
