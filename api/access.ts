// Each route declares what it needs, in one table: the routers are built through `declaredRoutes`, which
// registers a route and its check together, so no route exists without a declaration (the access
// test walks the app and this table, and tries every route with every role).
import { Router, type RequestHandler } from 'express';
import { permissionsOf, rolesGranting, type Permission, type Principal, type Roles } from '../domain/access';
import { HttpError } from './errors';

/**
 * `public`: anyone (the index, health). `signed`: a webhook, proven by its sender's signature instead
 * of a credential. `authenticated`: any valid credential. A permission (a list: any one of them), or one per action for `/:id/:action` routes.
 */
export type Needs = 'public' | 'signed' | 'authenticated' | Permission | Permission[] | { byAction: Record<string, Permission | Permission[]> };

export interface RouteDeclaration {
  method: 'GET' | 'POST';
  path: string;
  needs: Needs;
}

export class RouteTable {
  readonly routes: RouteDeclaration[] = [];
  constructor(readonly roles: Roles) {}
}

/** Whether the request's principal holds `permission` (false for a request without one). */
export function may(req: { principal?: Principal }, roles: Roles, permission: Permission): boolean {
  return req.principal !== undefined && permissionsOf(roles, req.principal).has(permission);
}

/** 403 naming the roles that grant what is missing. */
export function forbidden(roles: Roles, principal: Principal, needed: Permission | Permission[], what = 'this'): HttpError {
  const permissions = [needed].flat();
  const granting = [...new Set(permissions.flatMap((p) => rolesGranting(roles, p)))];
  const held = principal.roles.length ? principal.roles.join(', ') : 'none';
  return new HttpError(
    403,
    `${what} needs the role ${granting.join(' or ')} (permission ${permissions.map((p) => `"${p}"`).join(' or ')}); ` +
      `${principal.name} has ${held}. Ask an admin for a key with that role.`,
  );
}

/** The permissions a declaration asks of one request (any one of them will do); null for none. */
export function neededFor(needs: Needs, action: string | undefined): Permission[] | null {
  if (needs === 'public' || needs === 'signed' || needs === 'authenticated') return null;
  if (typeof needs === 'string' || Array.isArray(needs)) return [needs].flat();
  const byAction = action !== undefined && Object.hasOwn(needs.byAction, action) ? needs.byAction[action] : undefined;
  return byAction === undefined ? null : [byAction].flat();
}

/** Answers 403 unless the caller may; the action's own permission for `byAction`. */
export function requirePermission(needs: Needs, roles: Roles): RequestHandler {
  return (req, res, next) => {
    res.locals.audit = { target: typeof req.params.id === 'string' ? req.params.id : undefined, action: req.params.action };
    const permissions = neededFor(needs, typeof req.params.action === 'string' ? req.params.action : undefined);
    if (permissions === null) return next(); // public, signed, or an action nobody has (the route answers 404)
    if (!req.principal) throw new HttpError(401, 'this needs a credential');
    if (!permissions.some((p) => may(req, roles, p))) throw forbidden(roles, req.principal, permissions);
    next();
  };
}

type Handler = RequestHandler<any>;

/**
 * A router whose every route is declared in `table` under `base`, with its check in front; `authenticate`
 * for a router mounted before the app's own authentication (the codec server's).
 */
export function declaredRoutes(table: RouteTable, base: string, authenticate?: RequestHandler) {
  const router = Router();
  const add = (method: RouteDeclaration['method']) => (path: string, needs: Needs, ...handlers: Handler[]) => {
    const full = `${base}${path === '/' ? '' : path}` || '/';
    table.routes.push({ method, path: full, needs });
    const route = method === 'GET' ? router.get.bind(router) : router.post.bind(router);
    const named: Handler = (_req, res, next) => {
      res.locals.route = full;
      next();
    };
    const proven = authenticate && needs !== 'public' && needs !== 'signed' ? [authenticate] : [];
    route(path, named, ...proven, requirePermission(needs, table.roles), ...handlers);
  };
  return { router, get: add('GET'), post: add('POST') };
}
