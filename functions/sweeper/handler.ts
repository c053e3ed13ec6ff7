/**
 * The deadline sweeper (EventBridge schedule, every minute; the event carries nothing it
 * needs): fails RUNNING jobs past their deadline with DEADLINE_EXCEEDED.
 */
import { createDocumentClient } from '#commons/clients.ts';
import { loadSweeperConfig } from '#commons/config.ts';
import { withPowertools } from '#commons/middleware.ts';
import { type SweeperDeps, type SweepSummary, sweepExpiredJobs } from './sweep-deadlines.ts';

const config = loadSweeperConfig();
const deps: SweeperDeps = {
  table: { client: createDocumentClient(), tableName: config.tableName },
};

export const handler = withPowertools<unknown, SweepSummary>((_event, context) =>
  sweepExpiredJobs(deps, context),
);
