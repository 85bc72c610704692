// Custom search attributes operators filter on in the Temporal UI and `temporal workflow list`.
// Registered by the dev launcher (scripts/start.ts) and by docker-compose.yml; keep all three in sync
// (test/docker-compose.test.ts checks the compose file against SEARCH_ATTRIBUTES).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DESK_KIND = defineSearchAttributeKey('DeskKind', SearchAttributeType.KEYWORD);
export const DESK_STATUS = defineSearchAttributeKey('DeskStatus', SearchAttributeType.KEYWORD);
export const DESK_TIER = defineSearchAttributeKey('DeskTier', SearchAttributeType.INT);
export const DESK_CHANNEL = defineSearchAttributeKey('DeskChannel', SearchAttributeType.KEYWORD);
export const DESK_PRIORITY = defineSearchAttributeKey('DeskPriority', SearchAttributeType.KEYWORD);
export const DESK_ASSIGNEE = defineSearchAttributeKey('DeskAssignee', SearchAttributeType.KEYWORD);
export const DESK_BREACHED = defineSearchAttributeKey('DeskBreached', SearchAttributeType.BOOL);
// Feature requests and bug reports: the stage, the milestone, and whether it is blocked.
export const DESK_STAGE = defineSearchAttributeKey('DeskStage', SearchAttributeType.KEYWORD);
export const DESK_MILESTONE = defineSearchAttributeKey('DeskMilestone', SearchAttributeType.KEYWORD);
export const DESK_BLOCKED = defineSearchAttributeKey('DeskBlocked', SearchAttributeType.BOOL);
// Emergency incidents: severity, the escalation level paged, crisis mode.
export const DESK_SEVERITY = defineSearchAttributeKey('DeskSeverity', SearchAttributeType.KEYWORD);
export const DESK_LEVEL = defineSearchAttributeKey('DeskLevel', SearchAttributeType.INT);
export const DESK_CRISIS = defineSearchAttributeKey('DeskCrisis', SearchAttributeType.BOOL);

export const SEARCH_ATTRIBUTE_KEYS = [
  DESK_KIND,
  DESK_STATUS,
  DESK_TIER,
  DESK_CHANNEL,
  DESK_PRIORITY,
  DESK_ASSIGNEE,
  DESK_BREACHED,
  DESK_STAGE,
  DESK_MILESTONE,
  DESK_BLOCKED,
  DESK_SEVERITY,
  DESK_LEVEL,
  DESK_CRISIS,
];

/** Name and CLI type (`temporal operator search-attribute create --type`) of every key above. */
export const SEARCH_ATTRIBUTES: ReadonlyArray<{ name: string; type: 'Keyword' | 'Int' | 'Bool' }> = [
  { name: DESK_KIND.name, type: 'Keyword' },
  { name: DESK_STATUS.name, type: 'Keyword' },
  { name: DESK_TIER.name, type: 'Int' },
  { name: DESK_CHANNEL.name, type: 'Keyword' },
  { name: DESK_PRIORITY.name, type: 'Keyword' },
  { name: DESK_ASSIGNEE.name, type: 'Keyword' },
  { name: DESK_BREACHED.name, type: 'Bool' },
  { name: DESK_STAGE.name, type: 'Keyword' },
  { name: DESK_MILESTONE.name, type: 'Keyword' },
  { name: DESK_BLOCKED.name, type: 'Bool' },
  { name: DESK_SEVERITY.name, type: 'Keyword' },
  { name: DESK_LEVEL.name, type: 'Int' },
  { name: DESK_CRISIS.name, type: 'Bool' },
];
