// The ticket's state and view as the first model kept them (the whole timeline and every message in
// the workflow), for runs started before the state model of workflows/ticket.ts. Types only, plus the
// update definitions typed with the old answers; remove with workflows/legacy/ticket.ts.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { TicketSlaClocks, TicketSlaEvent } from '../../domain/sla-clock';
import type { TicketPolicy, Tier } from '../../domain/policy';
import type {
  ActorInput,
  AssignInput,
  Breach,
  ChangeTierInput,
  EscalateInput,
  HandOffInput,
  MessageRef,
  NotificationKind,
  ReopenInput,
  Satisfaction,
  SatisfactionInput,
  SlaName,
  TakeInput,
  TicketIntake,
  TicketStatus,
  TimelineEntry,
} from '../../domain/ticket';

export type { Breach, Satisfaction, SlaName, TicketIntake, TimelineEntry };

export interface LegacyEscalationStep {
  sla: SlaName;
  episode: number;
  level: number;
  repeat: number;
  notified: string[];
  at: number;
  manual?: boolean;
}

export interface LegacyActiveEscalation {
  episode: number;
  levelIndex: number;
  repeat: number;
  nextAt: number | null;
  manual?: { by: string; reason: string; ordinal: number };
}

export interface LegacyIntegrationFailure {
  at: number;
  kind: NotificationKind | 'satisfaction-feedback';
  audience: 'requester' | 'desk';
  system: string | null;
  message: string;
}

export interface LegacyTicketState {
  ticket: TicketIntake;
  status: TicketStatus;
  tier: Tier;
  assignee: string | null;
  createdAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  resolution: string | null;
  handOff: { team: string; reason: string; at: number; confirmedAt: number | null } | null;
  satisfaction: Satisfaction | null;
  slaEvents: TicketSlaEvent[];
  timeline: TimelineEntry[];
  breaches: Breach[];
  escalations: LegacyEscalationStep[];
  escalating: Partial<Record<SlaName, LegacyActiveEscalation>>;
  sent: string[];
  version: number;
  integrationFailures?: LegacyIntegrationFailure[];
}

export interface LegacyTicketView extends Omit<LegacyTicketState, 'sent' | 'slaEvents' | 'escalating'> {
  id: string;
  workflowId: string;
  breached: boolean;
  clocks: TicketSlaClocks;
}

export interface LegacyTicketWorkflowInput {
  ticket: TicketIntake;
  policy: TicketPolicy;
  carried?: LegacyTicketState;
  continueAsNewAfterEvents?: number;
}

/** Text inputs were strings then; today's API sends a MessageRef for the conversation's messages. */
export type TextOrMessage = string | MessageRef;

const update = <I>(name: string) => defineUpdate<LegacyTicketView, [I]>(name);
export const acknowledgeUpdate = update<ActorInput>('acknowledge');
export const replyUpdate = update<ActorInput & { role: 'agent' | 'requester'; message: TextOrMessage }>('reply');
export const assignUpdate = update<AssignInput>('assign');
export const changeTierUpdate = update<ChangeTierInput>('changeTier');
export const waitOnRequesterUpdate = update<ActorInput & { question: TextOrMessage }>('waitOnRequester');
export const handOffUpdate = update<HandOffInput>('handOff');
export const resolveUpdate = update<ActorInput & { resolution: TextOrMessage }>('resolve');
export const reopenUpdate = update<ReopenInput>('reopen');
export const closeUpdate = update<ActorInput>('close');
export const escalateUpdate = update<EscalateInput>('escalate');
export const takeUpdate = update<TakeInput>('take');
export const rateSatisfactionUpdate = update<SatisfactionInput>('rateSatisfaction');
export const ticketStateQuery = defineQuery<LegacyTicketView>('state');
