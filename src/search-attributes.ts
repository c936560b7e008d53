import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The search attributes Gameday keeps current on every run, so that runs can be filtered in the
 * Temporal Web UI (`GamedayVerdict = "failed"`). Pure code: the experiment workflow imports it.
 */
export const searchAttributes = {
  experimentId: defineSearchAttributeKey('GamedayExperimentId', SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey('GamedayStage', SearchAttributeType.KEYWORD),
  verdict: defineSearchAttributeKey('GamedayVerdict', SearchAttributeType.KEYWORD),
  targets: defineSearchAttributeKey('GamedayTargets', SearchAttributeType.KEYWORD_LIST),
  activeFaults: defineSearchAttributeKey('GamedayActiveFaults', SearchAttributeType.KEYWORD_LIST),
  /** True while a revert keeps failing: `GamedayRollbackFailing = true` finds runs that need a person. */
  rollbackFailing: defineSearchAttributeKey('GamedayRollbackFailing', SearchAttributeType.BOOL),
  /**
   * The hosts whose agent a revert waits for (comma-separated), absent when none:
   * `GamedayWaitingOnHost = "db-1"` finds runs whose faults stay in place until that host's agent is back.
   */
  waitingOnHost: defineSearchAttributeKey('GamedayWaitingOnHost', SearchAttributeType.KEYWORD),
} as const;

export { FAULTS_MEMO, TRIGGER_MEMO } from './memo-keys';

/** The system search attribute a Temporal Schedule sets on the runs it starts. */
export const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);
