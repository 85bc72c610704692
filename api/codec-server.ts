// The codec server the Temporal Web UI calls to show payloads decoded (POST /codec/decode, /codec/encode,
// with `X-Namespace`): the same codec the workers use, for callers with the `decode` permission only.
// The UI sends either the signed-in user's access token (`Authorization: Bearer`, with OIDC) or,
// with "include cross-origin credentials", the cookie that GET /codec/session sets from a key.
import type { RequestHandler } from 'express';
import type { PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { HttpError } from './errors';

/** The cookie a browser sends the codec server; HttpOnly, for /codec only. */
export const CODEC_COOKIE = 'desk_codec';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins (the Temporal UI's) whose pages may call the codec server. */
  allowedOrigins: string[];
}

/** CORS for the UI's origins only; a preflight is answered without a credential, as browsers send none. */
export function codecCors(allowedOrigins: string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin && allowedOrigins.includes(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Max-Age': '600',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.status(origin && allowedOrigins.includes(origin) ? 204 : 403).end();
      return;
    }
    next();
  };
}

/** The codec cookie as a bearer credential, when the request has no Authorization header. */
export const codecCookieAsBearer: RequestHandler = (req, _res, next) => {
  if (!req.get('authorization')) {
    const cookie = (req.get('cookie') ?? '')
      .split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${CODEC_COOKIE}=`));
    if (cookie) req.headers.authorization = `Bearer ${decodeURIComponent(cookie.slice(CODEC_COOKIE.length + 1))}`;
  }
  next();
};

/** POST /codec/encode or /codec/decode: Payloads in proto3 JSON (bytes as base64), the same back. */
export function codecHandler(codec: PayloadCodec, direction: 'encode' | 'decode'): RequestHandler {
  return async (req, res) => {
    const body = req.body as { payloads?: unknown } | undefined;
    if (!body || !Array.isArray(body.payloads)) {
      throw new HttpError(400, 'send {"payloads": [{"metadata": {...}, "data": "<base64>"}]} as the Temporal UI does');
    }
    let payloads: temporal.api.common.v1.IPayload[];
    try {
      payloads = temporal.api.common.v1.Payloads.fromObject({ payloads: body.payloads }).payloads;
    } catch (err) {
      throw new HttpError(400, `the payloads are not Temporal payloads in JSON: ${(err as Error).message}`);
    }
    let result: temporal.api.common.v1.IPayload[];
    try {
      result = direction === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    } catch (err) {
      throw new HttpError(422, `cannot ${direction}: ${(err as Error).message}`);
    }
    const answer = temporal.api.common.v1.Payloads.toObject(temporal.api.common.v1.Payloads.create({ payloads: result }), {
      bytes: String,
    });
    res.json({ payloads: answer.payloads ?? [] });
  };
}

/** GET /codec/session: a form that trades a key for the codec cookie, so the UI in this browser can decode. */
export const codecSessionPage: RequestHandler = (_req, res) => {
  res.type('html').send(`<!doctype html><meta charset="utf-8"><title>support-desk: decode in the Temporal UI</title>
<h1>Decode payloads in the Temporal UI</h1>
<p>Paste a key with the <code>decode</code> permission (an admin's or a supervisor's). This browser then sends it to the
codec server as an HttpOnly cookie. In the Temporal UI, open the codec server settings and tick
"Include cross-origin credentials".</p>
<form method="post" action="/codec/session"><input name="key" type="password" size="60" autocomplete="off" required>
<button>Use this key</button></form>`);
};

/** POST /codec/session sends the key as the form field `key`: it is the credential of that request. */
export const codecFormKeyAsBearer: RequestHandler = (req, _res, next) => {
  const key = (req.body as { key?: unknown } | undefined)?.key;
  // Without one, the request has no credential and is answered 401 like any other.
  if (req.method === 'POST' && req.path === '/session' && typeof key === 'string' && key.trim() !== '') {
    req.headers.authorization = `Bearer ${key.trim()}`;
  }
  next();
};

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The session form is this API's own page: a post from another site (login CSRF) is refused. */
export const codecSessionSameOrigin: RequestHandler = (req, _res, next) => {
  if (req.method !== 'POST' || req.path !== '/session') return next();
  const origin = req.get('origin');
  const crossSite = req.get('sec-fetch-site') === 'cross-site' || (origin !== undefined && origin !== 'null' && new URL(origin).host !== req.get('host'));
  if (crossSite) throw new HttpError(403, 'the codec session is set from its own page, GET /codec/session, not from another site');
  next();
};

export const codecSessionSet: RequestHandler = (req, res) => {
  const key = (req.get('authorization') ?? '').replace(/^Bearer +/i, '');
  res.cookie(CODEC_COOKIE, key, { httpOnly: true, sameSite: 'lax', path: '/codec', maxAge: 12 * 3600_000, secure: req.secure });
  res.type('html').send(`<!doctype html><meta charset="utf-8"><p>Done: ${escapeHtml(req.principal?.name ?? '')} may decode in this browser for 12 hours.</p>`);
};
