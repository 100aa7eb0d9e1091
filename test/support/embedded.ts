import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVELOPMENT_KEY } from '../../src/auth/key-store';
import { ApiClient } from './api';
import { freePort } from './ports';
import { NodeProcess, startNodeProcess } from './processes';
import { waitFor } from './wait';

export interface EmbeddedStack {
  process: NodeProcess;
  api: ApiClient;
  ports: { api: number; temporal: number; ui: number };
  dataDir: string;
}

/**
 * Runs `dist/embedded.js` as `npm start` does, on free ports; pass the same `dataDir` and
 * ports to start it again on the same state.
 */
export async function startEmbedded(
  reuse?: Pick<EmbeddedStack, 'ports' | 'dataDir'>,
  env: Record<string, string> = {},
): Promise<EmbeddedStack> {
  const ports = reuse?.ports ?? {
    api: await freePort(),
    temporal: await freePort(),
    ui: await freePort(),
  };
  const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'task-api-embedded-'));
  const child = startNodeProcess('embedded', {
    NODE_ENV: 'development',
    PORT: String(ports.api),
    DATA_DIR: dataDir,
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    ...(process.env.TEMPORAL_CLI_PATH && { TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH }),
    ...env,
  });
  const api = new ApiClient(`http://127.0.0.1:${ports.api}`, DEVELOPMENT_KEY);
  await waitFor(
    'the embedded stack to be ready',
    async () => {
      const ready = await api.request('GET', '/readiness').catch(() => undefined);
      if (ready?.status === 200) return true;
      if (child.output().includes('Start-up failed')) throw new Error(child.output());
      return undefined;
    },
    60_000,
  );
  return { process: child, api, ports, dataDir };
}
