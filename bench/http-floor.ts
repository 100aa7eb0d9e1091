/**
 * The floor under any HTTP service in front of Temporal: a plain node:http server in its own
 * process that makes exactly the Temporal calls the API makes for status, pause and resume,
 * and nothing else (no auth, validation, logging, framework). What the API costs over the bare
 * client splits into what this floor costs (the HTTP hop and a second process) and what the
 * API adds on top of it.
 *
 * Run as a child process of a benchmark (`startHttpFloor`); standalone: HTTP_FLOOR=serve
 * TEMPORAL_ADDRESS=... node --import tsx bench/http-floor.ts (prints its URL).
 */
import { Client, Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PAUSE_SIGNAL, RESUME_SIGNAL } from '../src/workflows/contract';
import { BENCH_USER } from './stack';

const ROUTE = /^\/tasks\/([^/]+)(?:\/(pause|resume))?$/;

async function serve(): Promise<void> {
  const client = new Client({
    connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS }),
  });
  const describe = (workflowId: string) =>
    client.workflowService.describeWorkflowExecution({
      namespace: 'default',
      execution: { workflowId },
    });
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': text.length });
    res.end(text);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const [, id, action] = ROUTE.exec(req.url ?? '') ?? [];
    if (!id) return answer(res, 404, { detail: 'not found' });
    const described = await describe(id);
    if (!action) {
      return answer(res, 200, { status: described.workflowExecutionInfo?.status ?? 0 });
    }
    await client.workflow.getHandle(id).signal(action === 'pause' ? PAUSE_SIGNAL : RESUME_SIGNAL, {
      reason: '',
      requested_by: BENCH_USER,
    });
    return answer(res, 202, { task_id: id });
  };
  const server = createServer((req, res) => {
    // Bodies are not read; drain whatever came.
    req.resume();
    handle(req, res).catch((err: unknown) => answer(res, 500, { detail: String(err) }));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
}

/** Starts the floor server against `temporalAddress`; resolves once it listens. */
export function startHttpFloor(
  temporalAddress: string,
): Promise<{ url: string; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename], {
    env: { ...process.env, TEMPORAL_ADDRESS: temporalAddress, HTTP_FLOOR: 'serve' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the HTTP floor server exited (${code})`)));
    child.stdout.once('data', (data: Buffer) =>
      resolve({ url: data.toString().trim(), pid: child.pid ?? -1, stop: () => child.kill() }),
    );
  });
}

if (process.env.HTTP_FLOOR === 'serve') void serve();
