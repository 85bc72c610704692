// POST /webhooks/pagerduty: PagerDuty v3 webhooks. An incident the desk paged (its incident_key is
// the dedup_key we sent, i.e. the incident workflow's id) being acknowledged or resolved in
// PagerDuty is signalled to that workflow.
import { Router } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  incidentIdFromDedupKey,
  incidentWorkflowId,
  pageAcknowledgedSignal,
  pageResolvedSignal,
} from '../../domain/incident';
import { z } from 'zod';
import type { ApiDeps } from '../app';
import { signedBy } from './deliveries';
import { HttpError } from '../errors';
import { optionalText, text } from '../input';
import { parseJson, rawBody, receiveDelivery, requireSecret, webhookLog } from './deliveries';
import { verifyPagerDutySignature } from './signatures';

const ACTED_ON = ['incident.acknowledged', 'incident.resolved'] as const;

/** A v3 webhook about an incident: every field the desk reads, typed and under the text rules. */
export function pagerDutyEventSchema() {
  const resolution = text('message', { allowEmpty: true });
  return z.object({
    event: z.object({
      id: optionalText('id'),
      event_type: z.enum(ACTED_ON),
      agent: z.object({ summary: optionalText('name'), id: optionalText('id') }).nullish(),
      data: z
        .object({
          id: optionalText('id'),
          incident_key: optionalText('id'),
          resolve_reason: z.union([resolution, z.object({ summary: resolution.optional() })]).nullish(),
        })
        .optional(),
    }),
  });
}

type PagerDutyEvent = z.output<ReturnType<typeof pagerDutyEventSchema>>['event'];

export function pagerDutyWebhook(deps: ApiDeps, secrets: string[]): Router {
  const router = Router();
  const events = pagerDutyEventSchema();

  router.post('/', async (req, res) => {
    const verdict = verifyPagerDutySignature({
      body: rawBody(req),
      signature: req.get('x-pagerduty-signature'),
      secrets: requireSecret(secrets, 'PAGERDUTY_WEBHOOK_SECRETS'),
    });
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    signedBy(req, res, 'pagerduty');
    const payload = parseJson(rawBody(req), 'pagerduty');
    const type = payload.event?.event_type;
    if (!(ACTED_ON as readonly unknown[]).includes(type)) {
      // PagerDuty also sends a `pagey.ping` when the subscription is tested, and every other event type.
      res.status(200).json({ ok: true, ignored: typeof type === 'string' ? type : 'no event type' });
      return;
    }
    const header = req.get('x-webhook-id');
    await receiveDelivery(
      deps,
      res,
      { source: 'pagerduty', deliveryId: header ?? payload.event?.id, idFrom: header ? 'X-Webhook-Id' : 'event.id', payload: events.safeParse(payload) },
      ({ event }) => signalIncident(deps, event),
    );
  });

  return router;
}

async function signalIncident(deps: ApiDeps, event: PagerDutyEvent): Promise<void> {
  const type = event.event_type;
  // The desk pages with dedup_key = the incident workflow's id; PagerDuty reports it as incident_key.
  const incidentId = incidentIdFromDedupKey(event.data?.incident_key ?? '');
  if (incidentId === null) {
    webhookLog.info({ pagerDutyIncident: event.data?.id }, 'pagerduty incident not paged by the desk ignored');
    return;
  }
  const workflowId = incidentWorkflowId(incidentId);
  const by = event.agent?.summary ?? 'PagerDuty';
  const handle = deps.client.workflow.getHandle(workflowId);
  try {
    if (type === 'incident.acknowledged') {
      await handle.signal(pageAcknowledgedSignal, { by, source: 'pagerduty' });
    } else {
      const reason = event.data?.resolve_reason;
      const resolution = typeof reason === 'string' ? reason : reason?.summary;
      await handle.signal(pageResolvedSignal, {
        by,
        source: 'pagerduty',
        ...(resolution ? { resolution } : {}),
      });
    }
  } catch (err) {
    // The incident is over (its workflow completed) or was never ours: nothing to do, nothing to retry.
    if (err instanceof WorkflowNotFoundError) {
      webhookLog.info({ workflowId }, 'pagerduty event for an incident that is no longer running');
      return;
    }
    throw err;
  }
}
