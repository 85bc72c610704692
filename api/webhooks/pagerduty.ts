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
import type { ApiDeps } from '../app';
import { HttpError } from '../errors';
import { parseJson, rawBody, receiveDelivery, requireSecret, webhookLog } from './deliveries';
import { verifyPagerDutySignature } from './signatures';

interface PagerDutyWebhook {
  event?: {
    id?: string;
    event_type?: string;
    agent?: { summary?: string; id?: string } | null;
    data?: {
      id?: string;
      incident_key?: string;
      resolve_reason?: { summary?: string } | string | null;
    };
  };
}

export function pagerDutyWebhook(deps: ApiDeps, secrets: string[]): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const verdict = verifyPagerDutySignature({
      body: rawBody(req),
      signature: req.get('x-pagerduty-signature'),
      secrets: requireSecret(secrets, 'PAGERDUTY_WEBHOOK_SECRETS'),
    });
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    const { event } = parseJson(rawBody(req)) as PagerDutyWebhook;
    const type = event?.event_type;
    if (type !== 'incident.acknowledged' && type !== 'incident.resolved') {
      // PagerDuty also sends a `pagey.ping` when the subscription is tested, and every other event type.
      res.status(200).json({ ok: true, ignored: type ?? 'no event type' });
      return;
    }
    const deliveryId = req.get('x-webhook-id') ?? event?.id;
    await receiveDelivery(deps, res, 'pagerduty', deliveryId, () => signalIncident(deps, type, event!));
  });

  return router;
}

async function signalIncident(
  deps: ApiDeps,
  type: 'incident.acknowledged' | 'incident.resolved',
  event: NonNullable<PagerDutyWebhook['event']>,
): Promise<void> {
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
