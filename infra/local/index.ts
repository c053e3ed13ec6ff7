/** The embedded local stack: everything `fanout` and the end-to-end tests need. */

export { DynamoDbLimiter } from './cloud-limits/dynamodb-limiter.ts';
export {
  AWS_DEFAULT_LIMITS,
  type CloudLimits,
  type CloudLimitsOptions,
  resolveCloudLimits,
} from './cloud-limits/options.ts';
export type { DynamoDbLimitsReport, DynamoDbUsage } from './cloud-limits/report.ts';
export { S3RateLimiter } from './cloud-limits/s3-rate-limiter.ts';
export {
  type DynamoDbFaultKind,
  DynamoDbFaultProxy,
  type DynamoDbFaultRule,
  type DynamoDbRequest,
  faultResponse,
  type InjectedFault,
} from './dynamodb-faults.ts';
export {
  type ApiRequest,
  type CloudLimitsReport,
  EmbeddedStack,
  type EmbeddedStackOptions,
  EXTERNAL_DYNAMODB_CLIENT,
  type LocalEndpoints,
  type LocalQueue,
  PROJECT_DIR,
  type StackDescription,
  type StackDynamoDbFaultRule,
} from './embedded-stack.ts';
export { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './emulators/common.ts';
export { startDynamoDbLocal } from './emulators/dynamodb.ts';
export { startFauxqsLocal } from './emulators/sqs.ts';
export {
  type BatchReport,
  SqsEventSourceMapping,
  succeededRecords,
  toSqsRecord,
} from './event-source-mapping.ts';
export { buildProxyEvent, MAX_API_PAYLOAD_BYTES } from './http-api.ts';
export {
  FunctionError,
  type Interceptor,
  type InvocationRecord,
  LocalFunction,
} from './runtime/function-host.ts';
export {
  ratePeriodMs,
  type ScheduleSpec,
  type ScheduleTarget,
  scheduleSpecs,
} from './schedules.ts';
export { seededRandom } from './seeded-random.ts';
export { ensureSynthesized, staleReason } from './synth.ts';
export { loadStackModel, type StackModel, TemplateResolver } from './template.ts';
