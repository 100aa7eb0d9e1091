import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { setRequestTenant } from '../common/request-context';
import { AuthFailureLimiter } from '../rate-limit/auth-failure-limiter';
import { AUTH_METADATA, AuthRequirement, AuthenticatedRequest } from './auth.decorators';
import { ForbiddenError, UnauthenticatedError } from './errors';
import { KeyStore } from './key-store';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function presentedKey(request: AuthenticatedRequest, allowQueryKey: boolean): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const bearer = BEARER.exec(request.headers.authorization ?? '');
  if (bearer) return bearer[1];
  const query = request.query.api_key;
  if (allowQueryKey && typeof query === 'string' && query !== '') return query;
  return undefined;
}

/**
 * Every route is closed unless it says otherwise: a route without `@RequireScope` or `@Public`
 * answers 401, so forgetting the decorator cannot open a route.
 *
 * It runs before the request body is read (see JsonBodyGuard): a caller without a valid key
 * never gets the body parsed. Failed authentications count against the client's address;
 * past its budget the answer is 429 instead of 401.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: KeyStore,
    private readonly failures: AuthFailureLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(
      AUTH_METADATA,
      [context.getHandler(), context.getClass()],
    );
    if (requirement?.public) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const key = presentedKey(request, requirement?.allowQueryKey ?? false);
    const principal = key === undefined ? undefined : this.keys.authenticate(key);
    if (!requirement || !principal) {
      await this.failures.failed(request, context.switchToHttp().getResponse<Response>());
      throw new UnauthenticatedError();
    }
    if (!principal.scopes.includes(requirement.scope)) throw new ForbiddenError();
    request.principal = principal;
    setRequestTenant(principal.tenantId);
    return true;
  }
}
