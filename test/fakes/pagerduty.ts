// A local PagerDuty Events API v2 (POST /v2/enqueue) for contract tests: checks the routing key and
// the event's shape, and keeps one incident per dedup_key and service (routing key), as PagerDuty
// scopes dedup keys per service, through trigger, acknowledge, resolve.
import { HttpFake, type FakeAnswer, type RecordedRequest } from './http-fake';

export interface PagerdutyIncident {
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  events: string[];
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

export class FakePagerduty extends HttpFake {
  /** The incidents of each service, by routing key. */
  private readonly services = new Map<string, Map<string, PagerdutyIncident>>();

  constructor(
    readonly routingKey = 'R0UT1NGKEYFAKE0000000000000000AB',
    /** More services (one per paging level), each with its own routing key. */
    readonly otherRoutingKeys: string[] = [],
  ) {
    // Events v2 authenticates by the routing key in the body; an unknown key is a 400.
    super(
      (req) =>
        this.services.has(req.body?.routing_key)
          ? null
          : { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid routing key'] } },
      (req) => this.answer(req),
    );
    for (const key of [routingKey, ...otherRoutingKeys]) this.services.set(key, new Map());
  }

  /** The incidents of the first service. */
  get incidents(): Map<string, PagerdutyIncident> {
    return this.incidentsOn(this.routingKey);
  }

  /** The incidents of the service with this routing key. */
  incidentsOn(routingKey: string): Map<string, PagerdutyIncident> {
    return this.services.get(routingKey) ?? new Map();
  }

  private answer(req: RecordedRequest): FakeAnswer {
    if (req.method !== 'POST' || req.path !== '/v2/enqueue') return { status: 404, body: { message: 'Not found' } };
    const invalid = (error: string) => ({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: [error] } });
    const { event_action: action, dedup_key: dedupKey, payload, routing_key: routingKey } = req.body;
    const incidents = this.incidentsOn(routingKey);
    if (!['trigger', 'acknowledge', 'resolve'].includes(action)) return invalid("'event_action' is invalid");
    if (action === 'trigger') {
      if (!payload?.summary || !payload?.source || !SEVERITIES.includes(payload?.severity)) return invalid("'payload' is invalid");
      const key = dedupKey ?? `pd-${incidents.size + 1}`;
      const incident = incidents.get(key);
      // A trigger for an open incident with the same dedup_key is merged into it, as PagerDuty does.
      if (incident && incident.status !== 'resolved') incident.events.push('trigger');
      else incidents.set(key, { dedupKey: key, status: 'triggered', summary: payload.summary, events: ['trigger'] });
      return this.accepted(key);
    }
    if (!dedupKey) return invalid("'dedup_key' is required for " + action);
    const incident = incidents.get(dedupKey);
    if (incident && incident.status !== 'resolved') {
      incident.status = action === 'acknowledge' ? 'acknowledged' : 'resolved';
      incident.events.push(action);
    }
    return this.accepted(dedupKey);
  }

  private accepted(dedupKey: string): FakeAnswer {
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
  }
}
