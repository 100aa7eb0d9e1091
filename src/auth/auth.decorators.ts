import {
  ExecutionContext,
  SetMetadata,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiUnauthorizedResponse,
  DECORATORS,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { ErrorResponseDto } from '../common/api-responses';
import type { Principal, Scope } from './principal';

export const AUTH_METADATA = 'task-api:auth';

export type AuthRequirement =
  { public: true } | { public: false; scope: Scope; allowQueryKey: boolean };

export const API_KEY_SCHEME = 'api_key';
export const BEARER_SCHEME = 'bearer';

/**
 * Declares what a route needs and documents it in the OpenAPI document in the same breath,
 * so the docs cannot drift from what the guard enforces.
 */
export const RequireScope = (scope: Scope, options: { allowQueryKey?: boolean } = {}) =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, {
      public: false,
      scope,
      allowQueryKey: options.allowQueryKey ?? false,
    } satisfies AuthRequirement),
    ApiSecurity(API_KEY_SCHEME),
    ApiBearerAuth(BEARER_SCHEME),
    ApiUnauthorizedResponse({
      description: 'Missing, unknown, expired or revoked key',
      type: ErrorResponseDto,
      example: { error: 'Unauthorized' },
    }),
    ApiForbiddenResponse({
      description: `The key lacks the ${scope} scope`,
      type: ErrorResponseDto,
      example: { error: 'Forbidden' },
    }),
  );

/**
 * Operations routes: no key needed, documented as `security: []` (public on purpose, not
 * forgotten). @nestjs/swagger has no decorator for an empty requirement list.
 */
export const Public = () =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, { public: true } satisfies AuthRequirement),
    SetMetadata(DECORATORS.API_SECURITY, []),
  );

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => {
    const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('CurrentPrincipal used on a route without RequireScope');
    return principal;
  },
);
