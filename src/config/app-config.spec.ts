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
