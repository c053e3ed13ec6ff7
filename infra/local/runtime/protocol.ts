/** Messages between a local Lambda function host and its execution environment threads. */

export interface EnvironmentInit {
  readonly file: string;
  readonly exportName: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly memorySizeMb: number;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

export interface InvocationRequest {
  readonly id: number;
  readonly requestId: string;
  /** The event as JSON text. */
  readonly payload: string;
  /** Epoch ms when the function times out. */
  readonly deadline: number;
}

/** The error document Lambda returns for a failed invocation. */
export interface FunctionErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

export type ThreadMessage =
  | { readonly type: 'ready' }
  /** The function started (or saw the end of) a child process. */
  | { readonly type: 'child'; readonly pid: number; readonly alive: boolean }
  | { readonly type: 'init-error'; readonly error: FunctionErrorPayload }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly payload: string }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly ok: false;
      readonly error: FunctionErrorPayload;
    };

/** The outcome of one invocation, as the Invoke API reports it. */
export type InvocationOutcome =
  | { readonly ok: true; readonly payload: string }
  | { readonly ok: false; readonly error: FunctionErrorPayload };
