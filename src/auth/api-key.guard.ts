import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
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
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: KeyStore,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(
      AUTH_METADATA,
      [context.getHandler(), context.getClass()],
    );
    if (requirement?.public) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const key = presentedKey(request, requirement?.allowQueryKey ?? false);
    const principal = key === undefined ? undefined : this.keys.authenticate(key);
    if (!requirement || !principal) throw new UnauthenticatedError();
    if (!principal.scopes.includes(requirement.scope)) throw new ForbiddenError();
    request.principal = principal;
    return true;
  }
}
