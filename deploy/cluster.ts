/**
 * `npm run start:cluster`: the production shape on one machine, from real parts. PostgreSQL 15
 * (persistence and SQL visibility), a Temporal server built from Go modules, the namespace set
 * up by `npm run temporal:setup`, redis-server, two workers, two API instances and HAProxy in
 * front of them on PORT. Every process is started here, restarted when it dies on its own, and
 * stopped in order on Ctrl-C or SIGTERM; data stays under DATA_DIR for the next start.
 *
 * Variables: PORT (8080) and TEMPORAL_PORT (7233), from which every port follows
 * (deploy/ports.ts); DATA_DIR (data); TEMPORAL_TLS=true for mutual TLS between Temporal and its
 * clients (certificates under DATA_DIR/tls, made with openssl unless already there). Everything
 * else (API_KEYS_FILE, NODE_ENV, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, ...) reaches the API
 * instances and workers as with `npm run start:api` and `npm run start:worker`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config/app-config';
import { preparePostgres } from './postgres/postgres';
import { ClusterPorts, clusterPorts } from './ports';
import { Log, Service, ServiceSpec } from './supervisor';
import { buildTemporalServer, setUpSchemas, temporalServerSpec } from './temporal/server';
import { clientTls, clientTlsEnv, makeCertificates } from './tls/certificates';

const ROOT = resolve(__dirname, '..');

export interface ClusterOptions {
  port: number;
  temporalPort: number;
  dataDir: string;
  /** Mutual TLS between Temporal and every client, with the certificates in DATA_DIR/tls. */
  tls: boolean;
  namespace: string;
  /** What the API instances and workers get besides their addresses. */
  env: NodeJS.ProcessEnv;
  /** Only PostgreSQL and the Temporal server, set up (benchmarks bring their own clients). */
  temporalOnly?: boolean;
  log: Log;
}

export interface Cluster {
  ports: ClusterPorts;
  dataDir: string;
  /** Where cluster.json lists the processes and their current PIDs. */
  stateFile: string;
  services: Service[];
  stop(): Promise<void>;
}

/** What cluster.json holds: who runs, where; rewritten whenever a process (re)starts. */
export interface ClusterState {
  launcher: number;
  /** When the launcher started, to tell it from a later process that got its PID. */
  launcherStarted?: string;
  ports: ClusterPorts;
  namespace: string;
  tlsDir?: string;
  processes: Record<
    string,
    { pid?: number; started?: string; stopSignal: string; restarts: number; log: string }
  >;
}

/** Variables the cluster sets for its own processes; the caller's are not passed on. */
const CLUSTER_VARIABLES = [
  'PORT',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CA_PATH',
  'TEMPORAL_TLS_CERT_PATH',
  'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
  'REDIS_URL',
];

/**
 * When a process started (clock ticks since boot; undefined when none runs with that ID). With
 * its PID this names a process uniquely: a PID alone may since belong to another.
 */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The node command line of an npm script (`node <flags> dist/x.js`), run with this node. */
function nodeScript(script: string): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [node, ...args] = scripts[script].split(/\s+/);
  if (node !== 'node') throw new Error(`npm script ${script} does not start with node`);
  return [process.execPath, ...args];
}

const httpOk = async (url: string): Promise<boolean> =>
  (await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status === 200;

const redisAnswers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.write('PING\r\n');
  });

/** Whether `file` gained `text` after byte `from`. */
function logGained(file: string, from: number, text: string): boolean {
  try {
    return readFileSync(file).subarray(from).toString().includes(text);
  } catch {
    return false;
  }
}

/**
 * Stops what a launcher that died outright left running on this DATA_DIR, as cluster.json names
 * it: each with its own stop signal (PostgreSQL must end its sessions before a new server can
 * use its data), then SIGKILL if it is still there after 20 s.
 */
async function stopLeftovers(stateFile: string, log: Log): Promise<void> {
  if (!existsSync(stateFile)) return;
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
  if (state.launcher !== process.pid && startTime(state.launcher) === state.launcherStarted) {
    throw new Error(`A cluster already runs on this DATA_DIR (launcher pid ${state.launcher})`);
  }
  // Newest first: clients before the servers they use.
  for (const [name, { pid, started, stopSignal }] of Object.entries(state.processes).reverse()) {
    if (!pid || startTime(pid) !== started) continue;
    log(`Stopping ${name} (pid ${pid}), left running by an earlier start`);
    process.kill(pid, stopSignal);
    for (let waited = 0; startTime(pid) === started; waited += 100) {
      if (waited === 20_000) process.kill(pid, 'SIGKILL');
      await sleep(100);
    }
  }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { log, namespace } = options;
  const dataDir = resolve(options.dataDir);
  const ports = clusterPorts(options.port, options.temporalPort);
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const stateFile = join(dataDir, 'cluster.json');
  await stopLeftovers(stateFile, log);

  const tlsDir = options.tls ? join(dataDir, 'tls') : undefined;
  if (tlsDir) makeCertificates(tlsDir);
  const tlsEnv = tlsDir ? clientTlsEnv(tlsDir) : {};

  const services: Service[] = [];
  const writeState = (): void => {
    const state: ClusterState = {
      launcher: process.pid,
      launcherStarted: startTime(process.pid),
      ports,
      namespace,
      tlsDir,
      processes: Object.fromEntries(
        services.map((s) => [
          s.spec.name,
          {
            pid: s.pid,
            started: s.pid === undefined ? undefined : startTime(s.pid),
            stopSignal: s.spec.stopSignal ?? 'SIGTERM',
            restarts: s.restarts,
            log: s.spec.logFile,
          },
        ]),
      ),
    };
    // Written aside and renamed: a reader never sees a half-written file.
    writeFileSync(`${stateFile}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(`${stateFile}.tmp`, stateFile);
  };
  const start = async (spec: ServiceSpec): Promise<Service> => {
    const service = new Service(spec, log, writeState);
    services.push(service);
    await service.start();
    return service;
  };
  const stop = async (): Promise<void> => {
    // Clients first: API instances end their streams, then the rest, the database last.
    const order = ['api-', 'haproxy', 'worker-', 'temporal-server', 'redis', 'postgres'];
    for (const prefix of order) {
      await Promise.all(
        services.filter((s) => s.spec.name.startsWith(prefix)).map((s) => s.stop()),
      );
    }
    writeState();
  };

  try {
    log('Temporal server: building once per version, or from the cache');
    const binDir = buildTemporalServer();
    const postgres = preparePostgres(dataDir, ports.postgres, join(logs, 'postgres.log'));
    await start(postgres.spec);
    setUpSchemas(postgres);
    await start(
      temporalServerSpec({
        binDir,
        port: ports.temporal,
        postgres,
        tlsDir,
        clientTls: tlsDir ? clientTls(tlsDir) : undefined,
        logFile: join(logs, 'temporal-server.log'),
      }),
    );

    const temporalAddress = `127.0.0.1:${ports.temporal}`;
    const serviceEnv: NodeJS.ProcessEnv = {
      ...Object.fromEntries(
        Object.entries(options.env).filter(([name]) => !CLUSTER_VARIABLES.includes(name)),
      ),
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: namespace,
      ...tlsEnv,
    };
    // The same step an operator runs against their own cluster.
    const setup = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/temporal-setup.js')], {
      env: serviceEnv,
      encoding: 'utf8',
    });
    if (setup.status !== 0) throw new Error(`npm run temporal:setup failed:\n${setup.stderr}`);
    for (const line of setup.stdout.trim().split('\n')) log(`temporal:setup: ${line}`);
    if (options.temporalOnly) {
      writeState();
      return { ports, dataDir, stateFile, services, stop };
    }

    const redisDir = join(dataDir, 'redis');
    mkdirSync(redisDir, { recursive: true });
    await start({
      name: 'redis',
      command: '/usr/bin/redis-server',
      args: [join(__dirname, 'redis', 'redis.conf'), '--port', String(ports.redis)].concat([
        '--dir',
        redisDir,
      ]),
      logFile: join(logs, 'redis.log'),
      ready: () => redisAnswers(ports.redis),
    });

    const redisUrl = `redis://127.0.0.1:${ports.redis}`;
    const [nodeBin, ...workerArgs] = nodeScript('start:worker');
    await Promise.all(
      [1, 2].map((n) => {
        const logFile = join(logs, `worker-${n}.log`);
        return start({
          name: `worker-${n}`,
          command: nodeBin,
          args: workerArgs,
          cwd: ROOT,
          // Workers announce task changes on Redis (for the API instances' event streams) and
          // batches decide on tasks with the instances' shared decision ledger.
          env: { ...serviceEnv, REDIS_URL: redisUrl },
          logFile,
          // A worker has no port to ask: it says when it polls.
          ready: (logOffset) => Promise.resolve(logGained(logFile, logOffset, 'Worker polling')),
        });
      }),
    );

    const [, ...apiArgs] = nodeScript('start:api');
    await Promise.all(
      ports.apis.map((port, i) =>
        start({
          name: `api-${i + 1}`,
          command: nodeBin,
          args: apiArgs,
          cwd: ROOT,
          env: {
            ...serviceEnv,
            PORT: String(port),
            REDIS_URL: redisUrl,
          },
          logFile: join(logs, `api-${i + 1}.log`),
          ready: () => httpOk(`http://127.0.0.1:${port}/readiness`),
        }),
      ),
    );

    await start({
      name: 'haproxy',
      command: '/usr/sbin/haproxy',
      args: ['-db', '-f', 'haproxy.cfg'],
      cwd: join(__dirname, 'haproxy'),
      env: {
        PATH: process.env.PATH,
        LB_PORT: String(ports.loadBalancer),
        API_1: `127.0.0.1:${ports.apis[0]}`,
        API_2: `127.0.0.1:${ports.apis[1]}`,
      },
      logFile: join(logs, 'haproxy.log'),
      ready: () => httpOk(`http://127.0.0.1:${ports.loadBalancer}/readiness`),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  writeState();
  return { ports, dataDir, stateFile, services, stop };
}

function summary(cluster: Cluster, options: ClusterOptions): string[] {
  const { ports, dataDir } = cluster;
  const base = `http://localhost:${ports.loadBalancer}`;
  return [
    `Task API:    ${base}/api/v1/tasks (HAProxy, to instances on :${ports.apis.join(', :')})`,
    `API docs:    ${base}/docs (OpenAPI: ${base}/openapi.json)`,
    `Temporal:    127.0.0.1:${ports.temporal}, namespace "${options.namespace}"` +
      (options.tls ? `, mutual TLS (certificates in ${join(dataDir, 'tls')})` : ''),
    `PostgreSQL:  127.0.0.1:${ports.postgres} (data in ${join(dataDir, 'postgres')})`,
    `Redis:       127.0.0.1:${ports.redis}; metrics: http://127.0.0.1:${ports.temporalMetrics}/metrics`,
    `Logs:        ${join(dataDir, 'logs')}; processes: ${cluster.stateFile}`,
  ];
}

async function main(): Promise<void> {
  const log: Log = (line) => process.stdout.write(`[cluster] ${line}\n`);
  // The service's own validation: a bad PORT or TEMPORAL_PORT stops here, named.
  const config = loadConfig({ ...process.env, TEMPORAL_ADDRESS: undefined });
  const options: ClusterOptions = {
    port: config.port,
    temporalPort: config.temporal.port,
    dataDir: config.dataDir,
    tls: process.env.TEMPORAL_TLS === 'true',
    namespace: config.temporal.namespace,
    env: process.env,
    log,
  };
  const started = Date.now();
  const cluster = await startCluster(options);
  log(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const line of summary(cluster, options)) log(line);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping every process`);
    cluster.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`Stopping failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`[cluster] ${(err as Error).message}\n`);
    process.exit(1);
  });
}
