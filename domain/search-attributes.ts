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

const CLI_TYPE = { KEYWORD: 'Keyword', INT: 'Int', BOOL: 'Bool' } as const;
type CliType = (typeof CLI_TYPE)[keyof typeof CLI_TYPE];

/** Name and CLI type (`temporal operator search-attribute create --type`) of every key above. */
export const SEARCH_ATTRIBUTES: ReadonlyArray<{ name: string; type: CliType }> = SEARCH_ATTRIBUTE_KEYS.map((key) => ({
  name: key.name,
  type: CLI_TYPE[key.type as keyof typeof CLI_TYPE],
}));
