export const SCOPES = ['tasks:read', 'tasks:write'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: resolved from the API key, attached to the request by the guard. */
export interface Principal {
  /** The key's name, for logs; never the key itself. */
  keyName: string;
  tenantId: string;
  userId: string;
  scopes: readonly Scope[];
}
