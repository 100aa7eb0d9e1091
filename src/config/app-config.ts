import 'reflect-metadata';
import { Expose, Type, plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { MODEL_TIERS, type ModelTier } from '../workflows/contract';

/** `module:` followed by the path of a module whose default export is a TaskExecutor. */
const EXECUTOR_PATTERN = /^(simulated|http|openai|module:.+)$/;

/** What does the work of a task's phases in this worker, with what it needs. */
export type ExecutorConfig =
  | { readonly kind: 'simulated' }
  | {
      readonly kind: 'http';
      /** Without a trailing slash; calls go to `<url>/plan`, `/step`, `/synthesize`. */
      readonly url: string;
      readonly timeoutMs: number;
      /** Standard Webhooks secret (`whsec_<base64>`) the calls are signed with. */
      readonly signingSecret: string;
    }
  | {
      readonly kind: 'openai';
      readonly baseUrl: string;
      readonly apiKey: string;
      readonly model: string;
      /** Models for a task's `model_tier`; a tier without one uses `model`. */
      readonly tierModels: Partial<Record<ModelTier, string>>;
    }
  | { readonly kind: 'module'; readonly path: string };

/** The schema of every environment variable the service reads. */
class EnvironmentVariables {
  @Expose()
  @IsOptional()
  @IsString()
  NODE_ENV?: string;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @Expose()
  @IsOptional()
  @Matches(/^[A-Za-z0-9.:%_-]{1,253}$/, {
    message: 'HOST must be a host name or an IP address to listen on',
  })
  HOST?: string;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  MAX_CONNECTIONS?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  HTTP_HEADERS_TIMEOUT_MS?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  HTTP_REQUEST_TIMEOUT_MS?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS?: number;

  @Expose()
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  @Expose()
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'SWAGGER_PERSIST_AUTHORIZATION must be true or false' })
  SWAGGER_PERSIST_AUTHORIZATION?: string;

  @Expose()
  @IsOptional()
  @Matches(/^[^\s:/]+:\d+$/, { message: 'TEMPORAL_ADDRESS must look like host:port' })
  TEMPORAL_ADDRESS?: string;

  @Expose()
  @IsOptional()
  @IsString()
  @MinLength(1)
  TEMPORAL_NAMESPACE?: string;

  @Expose()
  @IsOptional()
  @IsString()
  @MinLength(1)
  TEMPORAL_TASK_QUEUE?: string;

  @Expose()
  @IsOptional()
  @IsString()
  TEMPORAL_CLI_PATH?: string;

  @Expose()
  @IsOptional()
  @IsString()
  DATA_DIR?: string;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  TEMPORAL_PORT?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  TEMPORAL_UI_PORT?: number;

  @Expose()
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'TEMPORAL_TLS must be true or false' })
  TEMPORAL_TLS?: string;

  @Expose()
  @IsOptional()
  @IsString()
  TEMPORAL_TLS_CA_PATH?: string;

  @Expose()
  @IsOptional()
  @IsString()
  TEMPORAL_TLS_CERT_PATH?: string;

  @Expose()
  @IsOptional()
  @IsString()
  TEMPORAL_TLS_KEY_PATH?: string;

  @Expose()
  @IsOptional()
  @IsString()
  TEMPORAL_TLS_SERVER_NAME?: string;

  @Expose()
  @IsOptional()
  @IsString()
  // Sent as `Authorization: Bearer <key>`: a space or line break (a key pasted with its newline)
  // would make every call fail at the gRPC layer instead of here, named. The message never
  // repeats the key.
  @Matches(/^[\x21-\x7e]+$/, {
    message:
      'TEMPORAL_API_KEY must be one token of printable ASCII characters (no spaces or line breaks)',
  })
  TEMPORAL_API_KEY?: string;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  WORKER_MAX_CONCURRENT_ACTIVITIES?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(10_000)
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS?: number;

  @Expose()
  @IsOptional()
  @IsString()
  API_KEYS_FILE?: string;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RATE_LIMIT_PER_MINUTE?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  AUTH_FAILURES_PER_MINUTE?: number;

  @Expose()
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000)
  STREAM_MAX_LONG_POLLS?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  STREAM_TAIL_READS_PER_SECOND?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  STREAM_TAIL_READ_INTERVAL_MS?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  BATCH_CONCURRENCY?: number;

  @Expose()
  @IsOptional()
  @Matches(EXECUTOR_PATTERN, {
    message: 'TASK_EXECUTOR must be simulated, http, openai or module:<path of a JS module>',
  })
  TASK_EXECUTOR?: string;

  @Expose()
  @IsOptional()
  @Matches(/^https?:\/\/[^\s?#]+$/, {
    message: 'EXECUTOR_HTTP_URL must be an http(s) URL without query or fragment',
  })
  EXECUTOR_HTTP_URL?: string;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  EXECUTOR_HTTP_TIMEOUT_MS?: number;

  @Expose()
  @IsOptional()
  @Matches(/^whsec_[A-Za-z0-9+/]+={0,2}$/, {
    message: 'WEBHOOK_SECRET must look like whsec_<base64>',
  })
  WEBHOOK_SECRET?: string;

  @Expose()
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'WEBHOOK_ALLOW_PRIVATE must be true or false' })
  WEBHOOK_ALLOW_PRIVATE?: string;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(300_000)
  WEBHOOK_TIMEOUT_MS?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  WEBHOOK_RETRY_INITIAL_MS?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86_400_000)
  WEBHOOK_RETRY_MAX_MS?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(24, { message: 'WEBHOOK_RETRY_HOURS must be at least 24' })
  @Max(720)
  WEBHOOK_RETRY_HOURS?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  WEBHOOK_MAX_CONCURRENT_TASKS?: number;

  @Expose()
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'OPENAI_BASE_URL must be an http(s) URL' })
  OPENAI_BASE_URL?: string;

  @Expose()
  @IsOptional()
  @IsString()
  OPENAI_API_KEY?: string;

  @Expose()
  @IsOptional()
  @IsString()
  OPENAI_MODEL?: string;

  @Expose()
  @IsOptional()
  @IsString()
  OPENAI_MODEL_SMALL?: string;

  @Expose()
  @IsOptional()
  @IsString()
  OPENAI_MODEL_MEDIUM?: string;

  @Expose()
  @IsOptional()
  @IsString()
  OPENAI_MODEL_LARGE?: string;

  @Expose()
  @IsOptional()
  @IsIn(['json', 'pretty'], { message: 'LOG_FORMAT must be json or pretty' })
  LOG_FORMAT?: 'json' | 'pretty';

  @Expose()
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, {
    message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL',
  })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  @Expose()
  @IsOptional()
  @IsString()
  OTEL_SERVICE_NAME?: string;
}

export class ConfigError extends Error {}

/**
 * Express's `trust proxy` in the forms that name who the proxies are: a hop count, or addresses,
 * CIDR ranges and the named ranges `loopback`, `linklocal`, `uniquelocal`. Plain `true` (trust
 * any X-Forwarded-For) is refused: a client could then pick the address it is limited by.
 */
function trustProxy(value: string | undefined): number | string[] | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (/^(loopback|linklocal|uniquelocal)$/.test(entry)) continue;
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const badPrefix = prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || badPrefix || rest.length > 0) {
      throw new ConfigError(
        'Invalid configuration: TRUST_PROXY must be a number of proxy hops or a comma-separated ' +
          `list of addresses, CIDR ranges, loopback, linklocal or uniquelocal (not "${entry}")`,
      );
    }
  }
  return entries;
}

const required = (value: string | undefined, name: string, executor: string): string => {
  if (value === undefined) {
    throw new ConfigError(
      `Invalid configuration: ${name} is required with TASK_EXECUTOR=${executor}`,
    );
  }
  return value;
};

/** The executor and the variables it needs; a missing one is named. */
function executorConfig(vars: EnvironmentVariables): ExecutorConfig {
  const name = vars.TASK_EXECUTOR ?? 'simulated';
  if (name.startsWith('module:')) return { kind: 'module', path: name.slice('module:'.length) };
  switch (name) {
    case 'http': {
      const signingSecret = required(vars.WEBHOOK_SECRET, 'WEBHOOK_SECRET', name);
      if (!isWebhookSecret(signingSecret)) {
        throw new ConfigError(
          'Invalid configuration: WEBHOOK_SECRET must look like whsec_<base64>',
        );
      }
      return {
        kind: 'http',
        url: required(vars.EXECUTOR_HTTP_URL, 'EXECUTOR_HTTP_URL', name).replace(/\/+$/, ''),
        timeoutMs: vars.EXECUTOR_HTTP_TIMEOUT_MS ?? 300_000,
        signingSecret,
      };
    }
    case 'openai': {
      const tierModels: Partial<Record<ModelTier, string>> = {};
      for (const tier of MODEL_TIERS) {
        const model = vars[`OPENAI_MODEL_${tier.toUpperCase() as Uppercase<ModelTier>}`];
        if (model) tierModels[tier] = model;
      }
      return {
        kind: 'openai',
        baseUrl: (vars.OPENAI_BASE_URL ?? 'https://api.openai.com/v1').replace(/\/+$/, ''),
        apiKey: required(vars.OPENAI_API_KEY, 'OPENAI_API_KEY', name),
        model: required(vars.OPENAI_MODEL, 'OPENAI_MODEL', name),
        tierModels,
      };
    }
    default:
      return { kind: 'simulated' };
  }
}

/** Whether the Standard Webhooks library accepts it as a secret (`whsec_<base64>`). */
function isWebhookSecret(secret: string): boolean {
  try {
    new Webhook(secret);
    return true;
  } catch {
    return false;
  }
}

function webhookConfig(vars: EnvironmentVariables): AppConfig['webhooks'] {
  const secret = vars.WEBHOOK_SECRET;
  if (secret !== undefined && !isWebhookSecret(secret)) {
    throw new ConfigError('Invalid configuration: WEBHOOK_SECRET must look like whsec_<base64>');
  }
  const retryInitialMs = vars.WEBHOOK_RETRY_INITIAL_MS ?? 5_000;
  const retryMaxMs = vars.WEBHOOK_RETRY_MAX_MS ?? 3_600_000;
  if (retryMaxMs < retryInitialMs) {
    throw new ConfigError(
      'Invalid configuration: WEBHOOK_RETRY_MAX_MS must not be less than WEBHOOK_RETRY_INITIAL_MS',
    );
  }
  return {
    secret,
    allowPrivate: vars.WEBHOOK_ALLOW_PRIVATE === 'true',
    timeoutMs: vars.WEBHOOK_TIMEOUT_MS ?? 10_000,
    retryInitialMs,
    retryMaxMs,
    retryWindowMs: (vars.WEBHOOK_RETRY_HOURS ?? 24) * 3_600_000,
    maxConcurrentTasks: vars.WEBHOOK_MAX_CONCURRENT_TASKS ?? 1000,
  };
}

function tlsOptions(vars: EnvironmentVariables): AppConfig['temporal']['tls'] {
  const { TEMPORAL_TLS_CERT_PATH: certPath, TEMPORAL_TLS_KEY_PATH: keyPath } = vars;
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new ConfigError(
      'Invalid configuration: TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together (mTLS)',
    );
  }
  if (vars.TEMPORAL_API_KEY && vars.TEMPORAL_TLS === 'false') {
    // The SDK would turn TLS on for the key anyway; a key in clear text is a leaked key.
    throw new ConfigError(
      'Invalid configuration: TEMPORAL_API_KEY is sent only over TLS: unset TEMPORAL_TLS=false',
    );
  }
  const wanted =
    vars.TEMPORAL_TLS === 'true' ||
    (vars.TEMPORAL_TLS !== 'false' &&
      Boolean(vars.TEMPORAL_TLS_CA_PATH || certPath || vars.TEMPORAL_API_KEY));
  if (!wanted) return undefined;
  return {
    caPath: vars.TEMPORAL_TLS_CA_PATH,
    certPath,
    keyPath,
    serverName: vars.TEMPORAL_TLS_SERVER_NAME,
  };
}

/** Validated, typed configuration. Built once at boot; nothing else reads the environment. */
export class AppConfig {
  readonly production: boolean;
  readonly port: number;
  /** The HTTP server's limits; none of them cuts a response in progress (event streams). */
  readonly http: {
    /** Absent: every interface, as Node listens by default. */
    readonly host?: string;
    readonly maxConnections: number;
    /** A request's headers must arrive within this. */
    readonly headersTimeoutMs: number;
    /** A request (headers and body) must arrive within this; its response may take longer. */
    readonly requestTimeoutMs: number;
    /** An idle kept-alive connection is closed after this. */
    readonly keepAliveTimeoutMs: number;
    /** Express `trust proxy`: who may tell us the client's address (X-Forwarded-For). */
    readonly trustProxy?: number | string[];
  };
  /** Swagger UI keeps the authorization in the browser's localStorage across reloads. */
  readonly docsPersistAuthorization: boolean;
  readonly temporal: {
    /** Absent: the embedded default starts a local dev server. */
    readonly address?: string;
    readonly namespace: string;
    readonly taskQueue: string;
    readonly cliPath?: string;
    /** Ports of the embedded dev server. */
    readonly port: number;
    readonly uiPort: number;
    /** Undefined: plain connection. Temporal Cloud API keys always use TLS. */
    readonly tls?: {
      readonly caPath?: string;
      readonly certPath?: string;
      readonly keyPath?: string;
      readonly serverName?: string;
    };
    readonly apiKey?: string;
  };
  readonly worker: {
    readonly maxConcurrentActivities: number;
    readonly maxConcurrentWorkflowTasks: number;
    /** Tasks one batch activity decides on at once. */
    readonly batchConcurrency: number;
  };
  readonly dataDir: string;
  readonly apiKeysFile?: string;
  readonly rateLimit: {
    /** Requests per key per minute; 0 turns limiting off. */
    readonly perMinute: number;
    /** Failed authentications per client address per minute; 0 turns limiting off. */
    readonly authFailuresPerMinute: number;
  };
  /**
   * Shared by every API instance when set (rate limits, control decisions); each instance
   * keeps its own otherwise.
   */
  readonly redisUrl?: string;
  /** How this instance follows the tasks its event streams watch. */
  readonly streams: {
    /** History long polls held at once; Temporal limits them per namespace, workers included. */
    readonly maxLongPolls: number;
    /** Budget for following the other watched tasks by reading their new events. */
    readonly tailReadsPerSecond: number;
    /** How often each of those is read when no change notice says to read it sooner. */
    readonly tailReadIntervalMs: number;
  };
  readonly executor: ExecutorConfig;
  /** Task webhooks: how workers sign and deliver them, what the API accepts. */
  readonly webhooks: {
    /** Standard Webhooks secret (`whsec_<base64>`); webhooks are refused without one. */
    readonly secret?: string;
    /** Loopback, private and other non-public targets are allowed (tests, private networks). */
    readonly allowPrivate: boolean;
    /** One delivery attempt gives up after this. */
    readonly timeoutMs: number;
    /** The wait after a failed attempt: from `initialMs`, doubling, up to `maxMs`. */
    readonly retryInitialMs: number;
    readonly retryMaxMs: number;
    /** An event is retried this long after its first failed attempt, then given up. */
    readonly retryWindowMs: number;
    /** Tasks whose webhooks one worker delivers at once (one activity slot each). */
    readonly maxConcurrentTasks: number;
  };
  /** JSON lines for machines (the default in production), or coloured lines for people. */
  readonly logFormat: 'json' | 'pretty';
  /** Spans are exported over OTLP/HTTP only when an endpoint is set. */
  readonly otel: { readonly endpoint?: string; readonly serviceName: string };

  constructor(vars: EnvironmentVariables) {
    this.production = vars.NODE_ENV === 'production';
    this.port = vars.PORT ?? 8080;
    this.http = {
      host: vars.HOST,
      maxConnections: vars.MAX_CONNECTIONS ?? 10_000,
      headersTimeoutMs: vars.HTTP_HEADERS_TIMEOUT_MS ?? 10_000,
      requestTimeoutMs: vars.HTTP_REQUEST_TIMEOUT_MS ?? 30_000,
      keepAliveTimeoutMs: vars.HTTP_KEEP_ALIVE_TIMEOUT_MS ?? 5_000,
      trustProxy: trustProxy(vars.TRUST_PROXY),
    };
    if (this.http.headersTimeoutMs > this.http.requestTimeoutMs) {
      throw new ConfigError(
        'Invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS',
      );
    }
    this.docsPersistAuthorization = vars.SWAGGER_PERSIST_AUTHORIZATION === 'true';
    this.temporal = {
      address: vars.TEMPORAL_ADDRESS,
      namespace: vars.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: vars.TEMPORAL_TASK_QUEUE ?? 'tasks',
      cliPath: vars.TEMPORAL_CLI_PATH,
      port: vars.TEMPORAL_PORT ?? 7233,
      uiPort: vars.TEMPORAL_UI_PORT ?? 8233,
      tls: tlsOptions(vars),
      apiKey: vars.TEMPORAL_API_KEY,
    };
    this.worker = {
      maxConcurrentActivities: vars.WORKER_MAX_CONCURRENT_ACTIVITIES ?? 100,
      maxConcurrentWorkflowTasks: vars.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS ?? 100,
      batchConcurrency: vars.BATCH_CONCURRENCY ?? 10,
    };
    this.dataDir = vars.DATA_DIR ?? 'data';
    this.apiKeysFile = vars.API_KEYS_FILE;
    this.rateLimit = {
      perMinute: vars.RATE_LIMIT_PER_MINUTE ?? 1200,
      authFailuresPerMinute: vars.AUTH_FAILURES_PER_MINUTE ?? 30,
    };
    this.redisUrl = vars.REDIS_URL;
    this.streams = {
      maxLongPolls: vars.STREAM_MAX_LONG_POLLS ?? 100,
      tailReadsPerSecond: vars.STREAM_TAIL_READS_PER_SECOND ?? 100,
      // Change notices through Redis say when to read; then a rarer read only catches what
      // sends none.
      tailReadIntervalMs: vars.STREAM_TAIL_READ_INTERVAL_MS ?? (vars.REDIS_URL ? 15_000 : 1000),
    };
    this.executor = executorConfig(vars);
    this.webhooks = webhookConfig(vars);
    this.logFormat = vars.LOG_FORMAT ?? (this.production ? 'json' : 'pretty');
    this.otel = {
      endpoint: vars.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: vars.OTEL_SERVICE_NAME ?? 'task-control-api',
    };
  }

  /** A copy with the Temporal address set, for the embedded default once its server runs. */
  withTemporalAddress(address: string): AppConfig {
    const copy = Object.create(AppConfig.prototype) as AppConfig;
    return Object.assign(copy, this, { temporal: { ...this.temporal, address } });
  }
}

/** Throws `ConfigError` naming every bad variable. Empty variables count as unset. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const vars = plainToInstance(EnvironmentVariables, present, { excludeExtraneousValues: true });
  const errors = validateSync(vars);
  if (errors.length > 0) {
    const problems = errors.flatMap((e) =>
      Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`),
    );
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return new AppConfig(vars);
}

/** The one place that reads the process environment. */
export const configFromEnvironment = (): AppConfig => loadConfig(process.env);
