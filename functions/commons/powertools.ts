/**
 * The one Powertools logger, metrics and tracer of each function. Service name, namespace
 * and log level come from POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and
 * POWERTOOLS_LOG_LEVEL, set by the stack.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();

export type { Logger } from '@aws-lambda-powertools/logger';
export { MetricUnit } from '@aws-lambda-powertools/metrics';
