/**
 * Lambda Invoke responses as the SDK returns them, for a mocked LambdaClient.
 */
import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';

/**
 * A RequestResponse answer: status 200, the payload as bytes, and `FunctionError` when the
 * invoked function threw. (The SDK's payload type is a Uint8Array subclass; the code under
 * test only reads the bytes.)
 */
export function invokeOutput(payload: unknown, functionError?: string): InvokeCommandOutput {
  const bytes = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return {
    $metadata: { httpStatusCode: 200 },
    StatusCode: 200,
    ExecutedVersion: '$LATEST',
    Payload: bytes as unknown as InvokeCommandOutput['Payload'],
    ...(functionError !== undefined && { FunctionError: functionError }),
  };
}
