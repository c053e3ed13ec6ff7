/**
 * The Lambda SQS event source mapping, played locally with the real SQS API:
 * - long-poll the queue (up to 10 messages per ReceiveMessage) and gather a batch of up to
 *   BatchSize records within MaximumBatchingWindowInSeconds (or 6 MB of payload);
 * - invoke the function with a real `SQSEvent`, up to MaximumConcurrency batches at once;
 * - delete the records that succeeded: with ReportBatchItemFailures, every record not named in
 *   `batchItemFailures`; a function error (or an invalid response) fails the whole batch;
 * - do nothing else: the visibility timeout redelivers failures and the queue's redrive
 *   policy moves a record to the DLQ after maxReceiveCount receives.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { InvocationOutcome } from './runtime/protocol.ts';

/** Lambda stops adding records to a batch at 6 MB of payload. */
const MAX_BATCH_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Lambda's pollers long-poll for the maximum 20 s. */
const LONG_POLL_SECONDS = 20;

export interface EventSourceMappingOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  /** Most batches in flight at once. */
  readonly maximumConcurrency: number;
  readonly reportBatchItemFailures: boolean;
  readonly invoke: (payload: string) => Promise<InvocationOutcome>;
  /** Told about anything that goes wrong outside the function (SQS errors). */
  readonly onError: (error: unknown) => void;
}

export interface BatchReport {
  readonly records: number;
  readonly deleted: number;
  readonly failed: number;
  readonly functionError: boolean;
}

function toRecordAttributes(message: Message): SQSRecord['attributes'] {
  const attributes = message.Attributes ?? {};
  return {
    ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
    SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
    SenderId: attributes.SenderId ?? '000000000000',
    ApproximateFirstReceiveTimestamp:
      attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(attributes.AWSTraceHeader === undefined
      ? {}
      : { AWSTraceHeader: attributes.AWSTraceHeader }),
  };
}

function toMessageAttributes(message: Message): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    result[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined
        ? {}
        : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) =>
        Buffer.from(item).toString('base64'),
      ),
    };
  }
  return result;
}

/** The SQSEvent record Lambda builds from one received message. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: toRecordAttributes(message),
    messageAttributes: toMessageAttributes(message),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes === undefined
      ? {}
      : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which records succeeded, from the function's response, following Lambda's rules: an empty
 * or null response or list means all; an invalid item fails the whole batch.
 */
export function succeededRecords(
  records: readonly SQSRecord[],
  responsePayload: string,
  reportBatchItemFailures: boolean,
): SQSRecord[] {
  if (!reportBatchItemFailures) return [...records];
  let response: unknown;
  try {
    response = JSON.parse(responsePayload);
  } catch {
    return [];
  }
  if (response === null || typeof response !== 'object') return [...records];
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return [...records];
  if (!Array.isArray(failures)) return [];
  const ids = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id =
      failure !== null && typeof failure === 'object'
        ? (failure as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return [];
    failed.add(id);
  }
  return records.filter((record) => !failed.has(record.messageId));
}

export class SqsEventSourceMapping {
  readonly options: EventSourceMappingOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #running = false;
  #loop: Promise<void> | undefined;
  #slotFreed: (() => void) | undefined;
  /**
   * Totals, for tests and the benchmark. `redeliveries` are records received again
   * (ApproximateReceiveCount > 1); `firstReceives` the records received for the first time.
   */
  readonly stats = {
    batches: 0,
    records: 0,
    deleted: 0,
    failedRecords: 0,
    functionErrors: 0,
    firstReceives: 0,
    redeliveries: 0,
  };
  /** Called after every batch: tests wait on it. */
  onBatch: ((report: BatchReport) => void) | undefined;

  constructor(options: EventSourceMappingOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    }
    if (!Number.isInteger(options.maximumConcurrency) || options.maximumConcurrency < 1) {
      throw new RangeError(
        `maximumConcurrency must be a positive integer, got ${options.maximumConcurrency}`,
      );
    }
    this.options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#poll();
  }

  /** Stops receiving; batches in flight go on (see drain()). */
  async stopPolling(): Promise<void> {
    this.#running = false;
    this.#abort.abort();
    this.#slotFreed?.();
    await this.#loop;
  }

  /** Waits for the batches in flight to finish. */
  async drain(): Promise<void> {
    await Promise.all(this.#inFlight);
  }

  /** Stops polling and waits for the batches in flight to finish. */
  async stop(): Promise<void> {
    await this.stopPolling();
    await this.drain();
  }

  #report(error: unknown): void {
    // Once stopping, failures of the emulators going away are expected.
    if (this.#running) this.options.onError(error);
  }

  async #waitForSlot(): Promise<void> {
    while (this.#running && this.#inFlight.size >= this.options.maximumConcurrency) {
      await new Promise<void>((resolve) => {
        this.#slotFreed = resolve;
      });
    }
  }

  async #receive(max: number, waitSeconds: number): Promise<Message[]> {
    const response = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        // fauxqs honours fractions of a second, which keeps short batching windows exact.
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.#abort.signal },
    );
    return response.Messages ?? [];
  }

  /** Gathers one batch: the first receive long-polls, then the window fills it. */
  async #gather(): Promise<Message[]> {
    const { batchSize, maximumBatchingWindowSeconds } = this.options;
    const batch = await this.#receive(batchSize, LONG_POLL_SECONDS);
    if (batch.length === 0) return batch;
    let bytes = batch.reduce((sum, message) => sum + Buffer.byteLength(message.Body ?? ''), 0);
    const windowEnds = Date.now() + maximumBatchingWindowSeconds * 1000;
    while (this.#running && batch.length < batchSize && bytes < MAX_BATCH_PAYLOAD_BYTES) {
      const remainingMs = windowEnds - Date.now();
      if (remainingMs <= 0) break;
      const more = await this.#receive(batchSize - batch.length, remainingMs / 1000);
      for (const message of more) {
        batch.push(message);
        bytes += Buffer.byteLength(message.Body ?? '');
      }
    }
    return batch;
  }

  async #poll(): Promise<void> {
    while (this.#running) {
      await this.#waitForSlot();
      if (!this.#running) break;
      let batch: Message[];
      try {
        batch = await this.#gather();
      } catch (error) {
        if (!this.#running) break;
        this.#report(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (batch.length === 0) continue;
      const run = this.#process(batch).finally(() => {
        this.#inFlight.delete(run);
        this.#slotFreed?.();
      });
      this.#inFlight.add(run);
    }
  }

  async #process(messages: Message[]): Promise<void> {
    const { queueArn, region } = this.options;
    const records = messages.map((message) => toSqsRecord(message, queueArn, region));
    for (const record of records) {
      if (Number(record.attributes.ApproximateReceiveCount) > 1) this.stats.redeliveries++;
      else this.stats.firstReceives++;
    }
    const event: SQSEvent = { Records: records };
    let outcome: InvocationOutcome;
    try {
      outcome = await this.options.invoke(JSON.stringify(event));
    } catch (error) {
      this.#report(error);
      outcome = {
        ok: false,
        error: { errorType: 'InvokeError', errorMessage: String(error), trace: [] },
      };
    }
    const succeeded = outcome.ok
      ? succeededRecords(records, outcome.payload, this.options.reportBatchItemFailures)
      : [];
    let deleted = 0;
    try {
      deleted = await this.#delete(succeeded);
    } catch (error) {
      this.#report(error);
    }
    this.stats.batches++;
    this.stats.records += records.length;
    this.stats.deleted += deleted;
    this.stats.failedRecords += records.length - succeeded.length;
    if (!outcome.ok) this.stats.functionErrors++;
    this.onBatch?.({
      records: records.length,
      deleted,
      failed: records.length - succeeded.length,
      functionError: !outcome.ok,
    });
  }

  async #delete(records: readonly SQSRecord[]): Promise<number> {
    let deleted = 0;
    for (let start = 0; start < records.length; start += 10) {
      const group = records.slice(start, start + 10);
      const response = await this.options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: group.map((record, index) => ({
            Id: String(index),
            ReceiptHandle: record.receiptHandle,
          })),
        }),
      );
      deleted += response.Successful?.length ?? 0;
      for (const failure of response.Failed ?? []) {
        this.#report(new Error(`DeleteMessageBatch failed: ${failure.Code} ${failure.Message}`));
      }
    }
    return deleted;
  }
}
