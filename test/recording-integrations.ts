// For workflow tests: the silent log drivers behind a recorder that keeps every call that reached a
// driver (what was paged, posted, commented, opened) and can make chosen calls refuse for good or fail as if down.
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { logIntegrations, type Integrations } from '../activities/integrations';

export interface DriverCall {
  system: keyof Integrations;
  action: string;
  args: Record<string, unknown>;
}

export interface RecordingIntegrations {
  integrations: Integrations;
  calls: DriverCall[];
}

/**
 * `refuse(call)` returning a message makes that call fail as a real driver does on a 4xx
 * (nonRetryable, type IntegrationRejected, details naming the system); such calls are recorded too.
 * `down(call)` returning a message makes it fail as on a 5xx: retryably, every time it is asked.
 */
export function recordingIntegrations(
  refuse: (call: DriverCall) => string | null = () => null,
  down: (call: DriverCall) => string | null = () => null,
): RecordingIntegrations {
  const calls: DriverCall[] = [];
  const inner = logIntegrations(pino({ level: 'silent' }));
  const wrap = <S extends keyof Integrations>(system: S): Integrations[S] => {
    const driver = inner[system] as unknown as Record<string, unknown>;
    const recorded: Record<string, unknown> = { driver: driver.driver };
    for (const [action, fn] of Object.entries(driver)) {
      if (typeof fn !== 'function') continue;
      recorded[action] = async (args: Record<string, unknown>) => {
        const call = { system, action, args };
        calls.push(call);
        const refusal = refuse(call);
        if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'IntegrationRejected', { system, status: 404 });
        const outage = down(call);
        if (outage) throw ApplicationFailure.retryable(outage, 'IntegrationUnavailable', { system, status: 503 });
        return (fn as (a: unknown) => Promise<unknown>).call(driver, args);
      };
    }
    return recorded as unknown as Integrations[S];
  };
  return {
    integrations: { chat: wrap('chat'), helpdesk: wrap('helpdesk'), tracker: wrap('tracker'), pager: wrap('pager') },
    calls,
  };
}
