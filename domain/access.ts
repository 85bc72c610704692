// Who may do what: the permissions the API's routes need, and the roles that grant them. Roles are
// data (a policy may redefine them under "roles"); these are the defaults. No Node imports.

/** What a route needs. Each route of the API declares one (api/access.ts). */
export const PERMISSIONS = [
  /** File work: tickets, incidents, security reports, feature requests, bug reports. */
  'file',
  /** Speak for the requester: a reply with role "requester", the satisfaction pulse's answers. */
  'relay-requester',
  /** Read and list items; a private item is shown redacted unless `read-private` (or it is assigned to the reader). */
  'read',
  /** Agents' actions on tickets, incidents, feature requests and bug reports. */
  'act',
  /** Re-tier, assign to someone else, escalate, and the reports. */
  'supervise',
  /** Read private tickets and private incidents in full. */
  'read-private',
  /** Read security reports in full and act on them, disclosure included. */
  'security',
  /**
   * Decode Temporal payloads through the codec server (the Temporal UI): every item's words, private
   * ones and security reports included, so only for a role that also has `read-private` and `security`.
   */
  'decode',
  /** API keys, the policy, the audit trail. */
  'manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export type Roles = Record<string, readonly Permission[]>;

/** The roles every desk has unless its policy says otherwise (README, "Who may do what"). */
export const DEFAULT_ROLES: Roles = {
  intake: ['file', 'relay-requester'],
  agent: ['file', 'read', 'act'],
  supervisor: ['file', 'read', 'act', 'supervise', 'read-private'],
  security: ['file', 'read', 'security', 'read-private', 'decode'],
  admin: PERMISSIONS,
};

/** Who made a request: a key's or a token's name, and the roles it holds. */
export interface Principal {
  /** Recorded as `by` on the timeline, in notifications and the projection. */
  name: string;
  roles: readonly string[];
  /** How it was proven: `key:<id>`, `jwt:<issuer>`, or a webhook's vendor (`slack`, ...). Never a secret. */
  credential: string;
}

/** The desk's roles: the defaults, with the policy's own replacing those of the same name. */
export function rolesOf(policy: { roles?: Partial<Record<string, readonly Permission[]>> }): Roles {
  const roles: Record<string, readonly Permission[]> = { ...DEFAULT_ROLES };
  for (const [role, permissions] of Object.entries(policy.roles ?? {})) if (permissions) roles[role] = permissions;
  return roles;
}

export function permissionsOf(roles: Roles, principal: Pick<Principal, 'roles'>): Set<Permission> {
  const granted = new Set<Permission>();
  for (const role of principal.roles) {
    if (!Object.hasOwn(roles, role)) continue;
    for (const permission of roles[role] ?? []) granted.add(permission);
  }
  return granted;
}

/** The roles that grant `permission`, for a 403 that says which one to ask for. */
export function rolesGranting(roles: Roles, permission: Permission): string[] {
  return Object.entries(roles)
    .filter(([, permissions]) => permissions.includes(permission))
    .map(([role]) => role);
}
