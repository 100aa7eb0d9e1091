import * as grpc from '@grpc/grpc-js';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { toNativeClientOptions } from '@temporalio/worker/lib/connection-options';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLS_FILES, TLS_SERVER_NAME, makeCertificates } from '../../deploy/tls/certificates';
import { loadConfig } from '../config/app-config';
import { temporalConnectionOptions } from './connection-options';

const KEY = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0YXNrLWFwaSJ9.c2lnbmF0dXJl';
const CLOUD = 'task-api.a1b2c.tmprl.cloud:7233';

describe('temporalConnectionOptions: what the API and the worker connect with', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'connection-options-'));
    writeFileSync(join(dir, 'ca.pem'), 'the CA');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('carries an API key with TLS on the system CAs (Temporal Cloud)', () => {
    const options = temporalConnectionOptions(
      loadConfig({ TEMPORAL_ADDRESS: CLOUD, TEMPORAL_API_KEY: KEY }),
    );
    expect(options).toEqual({
      address: CLOUD,
      apiKey: KEY,
      tls: {
        serverNameOverride: undefined,
        serverRootCACertificate: undefined,
        clientCertPair: undefined,
      },
    });
  });

  it('becomes, in the worker, an https target that sends the key (as Temporal wants it)', () => {
    const native = toNativeClientOptions(
      temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: CLOUD, TEMPORAL_API_KEY: KEY })),
    );
    expect({ targetUrl: native.targetUrl, tls: native.tls, apiKey: native.apiKey }).toEqual({
      targetUrl: `https://${CLOUD}`,
      tls: { domain: null, serverRootCaCert: null, clientTlsOptions: null },
      apiKey: KEY,
    });
  });

  it('sends a CA and server name given with the key, and no client certificate', () => {
    const options = temporalConnectionOptions(
      loadConfig({
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_API_KEY: KEY,
        TEMPORAL_TLS_CA_PATH: join(dir, 'ca.pem'),
        TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
      }),
    );
    expect(options).toEqual({
      address: 'temporal.internal:7233',
      apiKey: KEY,
      tls: {
        serverNameOverride: 'frontend.temporal.internal',
        serverRootCACertificate: Buffer.from('the CA'),
        clientCertPair: undefined,
      },
    });
  });

  it('is a plain connection with no key when neither TLS nor a key is configured', () => {
    const options = temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233' }));
    expect(options).toEqual({ address: '127.0.0.1:7233', apiKey: undefined, tls: undefined });
    expect(toNativeClientOptions(options)).toMatchObject({
      targetUrl: 'http://127.0.0.1:7233',
      tls: null,
      apiKey: null,
    });
  });
});

/**
 * On the wire: a gRPC server standing in for Temporal's frontend, with TLS (certificates made
 * with openssl as `start:cluster` makes them), records the Authorization header of the first call
 * each connection makes, the API's client and the worker's.
 */
describe('the API key on the wire', () => {
  let dir: string;
  let server: grpc.Server;
  let port: number;
  const seen: { method: string; authorization: grpc.MetadataValue[] }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'api-key-wire-'));
    makeCertificates(dir, 'connection-options spec CA');
    server = new grpc.Server();
    const bytes = (b: Buffer) => b;
    const unary = (method: string) => ({
      path: `/temporal.api.workflowservice.v1.WorkflowService/${method}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    });
    server.addService(
      { GetSystemInfo: unary('GetSystemInfo') },
      {
        // An empty message: the default GetSystemInfoResponse.
        GetSystemInfo: (
          call: grpc.ServerUnaryCall<Buffer, Buffer>,
          callback: grpc.sendUnaryData<Buffer>,
        ) => {
          seen.push({
            method: 'GetSystemInfo',
            authorization: call.metadata.get('authorization'),
          });
          callback(null, Buffer.alloc(0));
        },
      },
    );
    const credentials = grpc.ServerCredentials.createSsl(null, [
      {
        cert_chain: readFileSync(join(dir, TLS_FILES.serverCert)),
        private_key: readFileSync(join(dir, TLS_FILES.serverKey)),
      },
    ]);
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
  });
  afterAll(() => {
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = () =>
    loadConfig({
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      TEMPORAL_API_KEY: KEY,
      TEMPORAL_TLS_CA_PATH: join(dir, TLS_FILES.ca),
      TEMPORAL_TLS_SERVER_NAME: TLS_SERVER_NAME,
    });

  it('the API client sends `Authorization: Bearer <key>` over TLS', async () => {
    seen.length = 0;
    const connection = await Connection.connect(temporalConnectionOptions(config()));
    await connection.close();
    expect(seen).toEqual([{ method: 'GetSystemInfo', authorization: [`Bearer ${KEY}`] }]);
  });

  it('the worker connection sends `Authorization: Bearer <key>` over TLS', async () => {
    seen.length = 0;
    const connection = await NativeConnection.connect(temporalConnectionOptions(config()));
    await connection.close();
    expect(seen[0]).toEqual({ method: 'GetSystemInfo', authorization: [`Bearer ${KEY}`] });
  });
});
