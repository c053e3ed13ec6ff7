/** The local stack's test harness: what the end-to-end and reliability tests and the bench use. */
export { type ApiRequest, type StackDynamoDbFaultRule, TestStack } from './test-stack.ts';
