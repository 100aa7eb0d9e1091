import { loadConfig } from './app-config';

const SECRET = `whsec_${Buffer.from('shared secret').toString('base64')}`;

describe('executor configuration', () => {
  it('is the simulated executor unless TASK_EXECUTOR names another', () => {
    expect(loadConfig({}).executor).toEqual({ kind: 'simulated' });
    expect(loadConfig({ TASK_EXECUTOR: 'module:./my executor.js' }).executor).toEqual({
      kind: 'module',
      path: './my executor.js',
    });
  });

  it('reads the http executor with its defaults, and names what it misses', () => {
    expect(
      loadConfig({
        TASK_EXECUTOR: 'http',
        EXECUTOR_HTTP_URL: 'https://work.example.com/tasks/',
        WEBHOOK_SECRET: SECRET,
      }).executor,
    ).toEqual({
      kind: 'http',
      url: 'https://work.example.com/tasks',
      timeoutMs: 300_000,
      signingSecret: SECRET,
    });
    expect(() => loadConfig({ TASK_EXECUTOR: 'http', WEBHOOK_SECRET: SECRET })).toThrow(
      'Invalid configuration: EXECUTOR_HTTP_URL is required with TASK_EXECUTOR=http',
    );
    expect(() =>
      loadConfig({ TASK_EXECUTOR: 'http', EXECUTOR_HTTP_URL: 'http://x', WEBHOOK_SECRET: 'abc' }),
    ).toThrow('WEBHOOK_SECRET: WEBHOOK_SECRET must look like whsec_<base64>');
    expect(() =>
      loadConfig({
        TASK_EXECUTOR: 'http',
        EXECUTOR_HTTP_URL: 'http://x',
        WEBHOOK_SECRET: SECRET,
        EXECUTOR_HTTP_TIMEOUT_MS: '5',
      }),
    ).toThrow('EXECUTOR_HTTP_TIMEOUT_MS');
  });

  it('reads the openai executor with its tier models, and names what it misses', () => {
    expect(
      loadConfig({
        TASK_EXECUTOR: 'openai',
        OPENAI_API_KEY: 'sk-1',
        OPENAI_MODEL: 'gpt-x',
        OPENAI_MODEL_LARGE: 'gpt-xl',
      }).executor,
    ).toEqual({
      kind: 'openai',
      baseUrl: 'https://api.openai.com/v1',
      apiKey: 'sk-1',
      model: 'gpt-x',
      tierModels: { large: 'gpt-xl' },
    });
    expect(() => loadConfig({ TASK_EXECUTOR: 'openai', OPENAI_MODEL: 'm' })).toThrow(
      'Invalid configuration: OPENAI_API_KEY is required with TASK_EXECUTOR=openai',
    );
    expect(() => loadConfig({ TASK_EXECUTOR: 'openai', OPENAI_API_KEY: 'sk-1' })).toThrow(
      'Invalid configuration: OPENAI_MODEL is required with TASK_EXECUTOR=openai',
    );
  });

  it('refuses an executor it does not know', () => {
    expect(() => loadConfig({ TASK_EXECUTOR: 'gpt' })).toThrow(
      'TASK_EXECUTOR: TASK_EXECUTOR must be simulated, http, openai or module:<path of a JS module>',
    );
  });
});

describe('webhook configuration', () => {
  it('has production defaults: 5 s to 1 h backoff for 24 h, public targets only', () => {
    expect(loadConfig({ WEBHOOK_SECRET: SECRET }).webhooks).toEqual({
      secret: SECRET,
      allowPrivate: false,
      timeoutMs: 10_000,
      retryInitialMs: 5_000,
      retryMaxMs: 3_600_000,
      retryWindowMs: 24 * 3_600_000,
      maxConcurrentTasks: 1000,
    });
    expect(loadConfig({}).webhooks.secret).toBeUndefined();
  });

  it('names what is wrong', () => {
    expect(() => loadConfig({ WEBHOOK_SECRET: 'abc' })).toThrow(
      'WEBHOOK_SECRET: WEBHOOK_SECRET must look like whsec_<base64>',
    );
    expect(() => loadConfig({ WEBHOOK_RETRY_HOURS: '12' })).toThrow(
      'WEBHOOK_RETRY_HOURS must be at least 24',
    );
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(
      'WEBHOOK_ALLOW_PRIVATE must be true or false',
    );
    expect(() =>
      loadConfig({ WEBHOOK_RETRY_INITIAL_MS: '5000', WEBHOOK_RETRY_MAX_MS: '1000' }),
    ).toThrow('WEBHOOK_RETRY_MAX_MS must not be less than WEBHOOK_RETRY_INITIAL_MS');
  });
});

/** What start-up is refused with: the error's class and its whole message. */
function refusal(env: Record<string, string>): [string, string] {
  try {
    loadConfig(env);
  } catch (err) {
    return [(err as Error).constructor.name, (err as Error).message];
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('HTTP server configuration', () => {
  it('has defaults that suit an API: every interface, 10,000 connections, 10 s / 30 s / 5 s', () => {
    expect(loadConfig({}).http).toEqual({
      host: undefined,
      maxConnections: 10_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      trustProxy: undefined,
    });
    expect(loadConfig({}).docsPersistAuthorization).toBe(false);
  });

  it('reads every variable it is given', () => {
    const config = loadConfig({
      HOST: '::1',
      MAX_CONNECTIONS: '3',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
      TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8',
      SWAGGER_PERSIST_AUTHORIZATION: 'true',
    });
    expect(config.http).toEqual({
      host: '::1',
      maxConnections: 3,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 2000,
      keepAliveTimeoutMs: 1000,
      trustProxy: ['loopback', '10.0.0.0/8', 'fd00::/8'],
    });
    expect(config.docsPersistAuthorization).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
  });

  it.each([
    ['HOST', 'api.example.com/'],
    ['HOST', 'my host'],
  ])('refuses %s=%j, naming it', (name, value) => {
    expect(refusal({ [name]: value })).toEqual([
      'ConfigError',
      'Invalid configuration: HOST: HOST must be a host name or an IP address to listen on',
    ]);
  });

  it.each([
    ['MAX_CONNECTIONS', '0', 'MAX_CONNECTIONS: MAX_CONNECTIONS must not be less than 1'],
    [
      'MAX_CONNECTIONS',
      '1000001',
      'MAX_CONNECTIONS: MAX_CONNECTIONS must not be greater than 1000000',
    ],
    ['MAX_CONNECTIONS', '2.5', 'MAX_CONNECTIONS: MAX_CONNECTIONS must be an integer number'],
    [
      'HTTP_HEADERS_TIMEOUT_MS',
      '999',
      'HTTP_HEADERS_TIMEOUT_MS: HTTP_HEADERS_TIMEOUT_MS must not be less than 1000',
    ],
    [
      'HTTP_REQUEST_TIMEOUT_MS',
      '3600001',
      'HTTP_REQUEST_TIMEOUT_MS: HTTP_REQUEST_TIMEOUT_MS must not be greater than 3600000',
    ],
    [
      'HTTP_KEEP_ALIVE_TIMEOUT_MS',
      '600001',
      'HTTP_KEEP_ALIVE_TIMEOUT_MS: HTTP_KEEP_ALIVE_TIMEOUT_MS must not be greater than 600000',
    ],
    [
      'SWAGGER_PERSIST_AUTHORIZATION',
      'yes',
      'SWAGGER_PERSIST_AUTHORIZATION: SWAGGER_PERSIST_AUTHORIZATION must be true or false',
    ],
  ])('refuses %s=%s, naming it', (name, value, problem) => {
    expect(refusal({ [name]: value })).toEqual([
      'ConfigError',
      `Invalid configuration: ${problem}`,
    ]);
  });

  it('refuses a value that is not a number with every rule it breaks, naming the variable', () => {
    expect(refusal({ HTTP_REQUEST_TIMEOUT_MS: 'soon' })).toEqual([
      'ConfigError',
      'Invalid configuration: ' +
        'HTTP_REQUEST_TIMEOUT_MS: HTTP_REQUEST_TIMEOUT_MS must not be greater than 3600000; ' +
        'HTTP_REQUEST_TIMEOUT_MS: HTTP_REQUEST_TIMEOUT_MS must not be less than 1000; ' +
        'HTTP_REQUEST_TIMEOUT_MS: HTTP_REQUEST_TIMEOUT_MS must be an integer number',
    ]);
  });

  it('refuses a headers timeout longer than the request timeout, naming both', () => {
    const message =
      'Invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS';
    expect(refusal({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toEqual(
      ['ConfigError', message],
    );
    // The default headers timeout (10 s) counts too.
    expect(refusal({ HTTP_REQUEST_TIMEOUT_MS: '5000' })).toEqual(['ConfigError', message]);
    expect(
      loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '5000' }).http,
    ).toMatchObject({ headersTimeoutMs: 5000, requestTimeoutMs: 5000 });
  });

  it.each(['true', 'example.com', '10.0.0.0/33', '10.0.0.1/8/8', 'fd00::/129', '10.0.0.0/x'])(
    'refuses TRUST_PROXY with the entry %j, naming it',
    (entry) => {
      expect(refusal({ TRUST_PROXY: `loopback,${entry}` })).toEqual([
        'ConfigError',
        'Invalid configuration: TRUST_PROXY must be a number of proxy hops or a comma-separated ' +
          `list of addresses, CIDR ranges, loopback, linklocal or uniquelocal (not "${entry}")`,
      ]);
    },
  );
});

describe('Temporal API key (TEMPORAL_API_KEY)', () => {
  const KEY = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0YXNrLWFwaSJ9.c2lnbmF0dXJl';

  it('turns TLS on with the system CAs when nothing else asks for it', () => {
    const { temporal } = loadConfig({ TEMPORAL_API_KEY: KEY });
    expect(temporal.apiKey).toBe(KEY);
    expect(temporal.tls).toEqual({
      caPath: undefined,
      certPath: undefined,
      keyPath: undefined,
      serverName: undefined,
    });
  });

  it('keeps a CA and server name given with it', () => {
    const { temporal } = loadConfig({
      TEMPORAL_API_KEY: KEY,
      TEMPORAL_TLS_CA_PATH: '/etc/temporal/ca.pem',
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(temporal.tls).toEqual({
      caPath: '/etc/temporal/ca.pem',
      certPath: undefined,
      keyPath: undefined,
      serverName: 'temporal.internal',
    });
  });

  it('is unset when empty: no key, no TLS', () => {
    const { temporal } = loadConfig({ TEMPORAL_API_KEY: '' });
    expect([temporal.apiKey, temporal.tls]).toEqual([undefined, undefined]);
  });

  it('refuses TEMPORAL_TLS=false with a key, naming both', () => {
    expect(() => loadConfig({ TEMPORAL_API_KEY: KEY, TEMPORAL_TLS: 'false' })).toThrow(
      'Invalid configuration: TEMPORAL_API_KEY is sent only over TLS: unset TEMPORAL_TLS=false',
    );
  });

  it.each([
    ['a trailing line break', `${KEY}\n`],
    ['a space', `Bearer ${KEY}`],
    ['a non-ASCII character', `${KEY}é`],
  ])('refuses a key with %s, naming the variable but never the key', (_, key) => {
    let message = '';
    try {
      loadConfig({ TEMPORAL_API_KEY: key });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      'Invalid configuration: TEMPORAL_API_KEY: TEMPORAL_API_KEY must be one token of printable ' +
        'ASCII characters (no spaces or line breaks)',
    );
  });
});
