/**
 * Runs before every test file: the environment a Lambda function would see, with Powertools
 * kept quiet and no real AWS endpoint reachable by accident.
 */
process.env.AWS_REGION ??= 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.POWERTOOLS_SERVICE_NAME ??= 'fanout';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'fanout';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
