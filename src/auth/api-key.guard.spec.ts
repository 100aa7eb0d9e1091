import { Controller, ExecutionContext, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { loadConfig } from '../config/app-config';
import { AuthFailureLimiter } from '../rate-limit/auth-failure-limiter';
import { MemoryRateLimiter, RateLimitExceededError } from '../rate-limit/rate-limiter';
import { ApiKeyGuard } from './api-key.guard';
import { AuthenticatedRequest, Public, RequireScope } from './auth.decorators';
import { ForbiddenError, UnauthenticatedError } from './errors';
import { KeyStore } from './key-store';
import { keysFile, sha256Hex as sha } from '../testing/key-files';

@Controller()
class Routes {
  @Get() @RequireScope('tasks:write') write(): void {}
  @Get() @RequireScope('tasks:read', { allowQueryKey: true }) stream(): void {}
  @Get() @Public() health(): void {}
  @Get() undecorated(): void {}
}

const store = KeyStore.fromFile(
  keysFile([
    {
      name: 'writer',
      key_sha256: sha('sk_writer'),
      tenant_id: 't1',
      user_id: 'u1',
      scopes: ['tasks:read', 'tasks:write'],
    },
    {
      name: 'reader',
      key_sha256: sha('sk_reader'),
      tenant_id: 't1',
      user_id: 'u2',
      scopes: ['tasks:read'],
    },
    {
      name: 'expired',
      key_sha256: sha('sk_expired'),
      tenant_id: 't1',
      user_id: 'u3',
      scopes: ['tasks:read', 'tasks:write'],
      expires_at: '2020-01-01T00:00:00Z',
    },
  ]),
);

const FAILURES_PER_MINUTE = 3;

function guard(failuresPerMinute = 0): ApiKeyGuard {
  const config = loadConfig({ AUTH_FAILURES_PER_MINUTE: String(failuresPerMinute) });
  return new ApiKeyGuard(
    new Reflector(),
    store,
    new AuthFailureLimiter(new MemoryRateLimiter(), config),
  );
}

interface TestRequest {
  headers?: Record<string, string>;
  query?: Record<string, string>;
  ip?: string;
}

async function run(
  handler: keyof Routes,
  request: TestRequest,
  on: ApiKeyGuard = guard(),
  responseHeaders: Record<string, string> = {},
): Promise<AuthenticatedRequest> {
  const req = {
    headers: {},
    query: {},
    ip: '203.0.113.9',
    ...request,
  } as unknown as AuthenticatedRequest;
  const res = { setHeader: (name: string, value: string) => (responseHeaders[name] = value) };
  const context = {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ExecutionContext;
  await on.canActivate(context);
  return req;
}

describe('ApiKeyGuard', () => {
  it('accepts X-API-Key and attaches the principal, never the key', async () => {
    const req = await run('write', { headers: { 'x-api-key': 'sk_writer' } });
    expect(req.principal).toEqual({
      keyName: 'writer',
      tenantId: 't1',
      userId: 'u1',
      scopes: ['tasks:read', 'tasks:write'],
    });
  });

  it('accepts Authorization: Bearer', async () => {
    const req = await run('write', { headers: { authorization: 'Bearer sk_writer' } });
    expect(req.principal?.userId).toBe('u1');
  });

  it.each([
    ['no key', {}],
    ['an unknown key', { headers: { 'x-api-key': 'sk_nope' } }],
    ['an expired key', { headers: { 'x-api-key': 'sk_expired' } }],
    ['a malformed Authorization header', { headers: { authorization: 'Basic sk_writer' } }],
    ['a query key on a route that does not allow it', { query: { api_key: 'sk_writer' } }],
  ])('rejects %s with 401', async (_, request) => {
    await expect(run('write', request)).rejects.toThrow(UnauthenticatedError);
  });

  it('rejects a key without the route scope with 403', async () => {
    await expect(run('write', { headers: { 'x-api-key': 'sk_reader' } })).rejects.toThrow(
      ForbiddenError,
    );
  });

  it('accepts ?api_key= where the route allows it', async () => {
    expect((await run('stream', { query: { api_key: 'sk_reader' } })).principal?.userId).toBe('u2');
  });

  it('lets public routes through without a key', async () => {
    expect((await run('health', {})).principal).toBeUndefined();
  });

  it('closes routes that declare nothing, even to a valid key', async () => {
    await expect(run('undecorated', { headers: { 'x-api-key': 'sk_writer' } })).rejects.toThrow(
      UnauthenticatedError,
    );
  });

  describe('failed authentications', () => {
    const wrong = { headers: { 'x-api-key': 'sk_guess' }, ip: '198.51.100.7' };

    it('answers 429 with Retry-After once an address spends its budget of failures', async () => {
      const limited = guard(FAILURES_PER_MINUTE);
      for (let i = 0; i < FAILURES_PER_MINUTE; i++) {
        await expect(run('write', wrong, limited)).rejects.toThrow(UnauthenticatedError);
      }
      const headers: Record<string, string> = {};
      await expect(run('write', wrong, limited, headers)).rejects.toThrow(RateLimitExceededError);
      expect(Number(headers['Retry-After'])).toBeGreaterThanOrEqual(1);
      expect(Number(headers['Retry-After'])).toBeLessThanOrEqual(60);
      expect(headers['X-RateLimit-Remaining']).toBe('0');
    });

    it('never refuses a valid key, from that address or any other', async () => {
      const limited = guard(FAILURES_PER_MINUTE);
      for (let i = 0; i <= FAILURES_PER_MINUTE; i++) {
        await run('write', wrong, limited).catch(() => undefined);
      }
      const same = await run(
        'write',
        { headers: { 'x-api-key': 'sk_writer' }, ip: wrong.ip },
        limited,
      );
      expect(same.principal?.userId).toBe('u1');
      await expect(run('write', { ...wrong, ip: '192.0.2.1' }, limited)).rejects.toThrow(
        UnauthenticatedError,
      );
    });
  });
});
