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
