import { toNativeClientOptions } from '@temporalio/worker/lib/connection-options';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
