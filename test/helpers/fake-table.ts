/**
 * An in-memory table behind aws-sdk-client-mock, for tests of the exactly-once logic: it
 * applies GetItem, PutItem, UpdateItem and BatchGetItem as DynamoDB would (conditions,
 * SET/ADD/REMOVE with map paths, ALL_NEW / ALL_OLD), one command at a time, as DynamoDB
 * serializes writes to one item. Tests fail a command before or after it applies (a crash,
 * a lost response) with `failNext`.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { decodeUpdate } from './update-expression.ts';

type Item = Record<string, unknown>;

/** Which command to fail, and whether it applies first (a lost response) or not (a crash). */
export interface Failure {
  readonly command: 'Get' | 'Put' | 'Update' | 'BatchGet';
  /** Fails only the command whose key's pk starts with this. */
  readonly pkPrefix?: string;
  readonly afterApplying: boolean;
}

export class FakeTable {
  readonly items = new Map<string, Item>();
  readonly #failures: Failure[] = [];
  readonly #interceptions: {
    readonly matches: (input: Item) => boolean;
    readonly before: () => void;
  }[] = [];

  static keyOf(key: Item): string {
    return `${String(key.pk)}|${String(key.sk)}`;
  }

  get(pk: string, sk: string): Item | undefined {
    return this.items.get(`${pk}|${sk}`);
  }

  put(item: Item): void {
    this.items.set(FakeTable.keyOf(item), structuredClone(item));
  }

  /** Items whose pk starts with `prefix`. */
  withPrefix(prefix: string): Item[] {
    return [...this.items.values()].filter((item) => String(item.pk).startsWith(prefix));
  }

  failNext(failure: Failure): void {
    this.#failures.push(failure);
  }

  /** Runs `before` just before the next UpdateItem that `matches` applies (a racing write). */
  beforeUpdate(matches: (input: Item) => boolean, before: () => void): void {
    this.#interceptions.push({ matches, before });
  }

  #takeFailure(command: Failure['command'], pk: unknown): Failure | undefined {
    const index = this.#failures.findIndex(
      (failure) =>
        failure.command === command &&
        (failure.pkPrefix === undefined || String(pk).startsWith(failure.pkPrefix)),
    );
    if (index < 0) return undefined;
    return this.#failures.splice(index, 1)[0];
  }

  /** Routes the mocked document client's commands to this table. */
  attach(stub: AwsClientStub<DynamoDBDocumentClient>): void {
    stub.on(GetCommand).callsFake((input) => this.#run('Get', input.Key, () => this.#get(input)));
    stub
      .on(PutCommand)
      .callsFake((input) => this.#run('Put', (input.Item as Item).pk, () => this.#put(input)));
    stub
      .on(UpdateCommand)
      .callsFake((input) => this.#run('Update', (input.Key as Item).pk, () => this.#update(input)));
    stub
      .on(BatchGetCommand)
      .callsFake((input) => this.#run('BatchGet', undefined, () => this.#batchGet(input)));
  }

  async #run(command: Failure['command'], pk: unknown, apply: () => unknown): Promise<unknown> {
    const keyPk = typeof pk === 'object' && pk !== null ? (pk as Item).pk : pk;
    const failure = this.#takeFailure(command, keyPk);
    if (failure !== undefined && !failure.afterApplying) throw new Error(`${command} failed`);
    const result = apply();
    if (failure !== undefined) throw new Error(`${command} response lost`);
    return result;
  }

  #get(input: Item) {
    const item = this.items.get(FakeTable.keyOf(input.Key as Item));
    return { Item: item === undefined ? undefined : structuredClone(item) };
  }

  #put(input: Item) {
    const item = input.Item as Item;
    const existing = this.items.get(FakeTable.keyOf(item));
    const condition = String(input.ConditionExpression ?? '');
    if (condition.startsWith('attribute_not_exists') && existing !== undefined) {
      throw conditionFailed(existing, false);
    }
    this.put(item);
    return {};
  }

  #batchGet(input: Item) {
    const requests = input.RequestItems as Record<string, { Keys: Item[] }>;
    const responses: Record<string, Item[]> = {};
    for (const [table, { Keys }] of Object.entries(requests)) {
      responses[table] = Keys.map((key) => this.items.get(FakeTable.keyOf(key)))
        .filter((item): item is Item => item !== undefined)
        .map((item) => structuredClone(item));
    }
    return { Responses: responses };
  }

  #update(input: Item) {
    const interception = this.#interceptions.findIndex(({ matches }) => matches(input));
    if (interception >= 0) this.#interceptions.splice(interception, 1)[0]?.before();
    const key = input.Key as Item;
    const id = FakeTable.keyOf(key);
    const existing = this.items.get(id);
    const decoded = decodeUpdate(input);
    if (decoded.condition !== undefined && !evaluate(decoded.condition, existing)) {
      throw conditionFailed(existing, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
    }
    const item: Item = structuredClone(existing ?? { ...key });
    for (const [path, value] of Object.entries(decoded.set)) setPath(item, path, value);
    for (const [path, value] of Object.entries(decoded.setIfAbsent)) {
      if (getPath(item, path) === undefined) setPath(item, path, value);
    }
    for (const [path, value] of Object.entries(decoded.add)) {
      const current = getPath(item, path);
      setPath(item, path, (typeof current === 'number' ? current : 0) + Number(value));
    }
    for (const path of decoded.remove) removePath(item, path);
    this.items.set(id, item);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(item) } : {};
  }
}

function conditionFailed(item: Item | undefined, returnOld: boolean) {
  const error = new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
  });
  if (returnOld && item !== undefined) {
    const marshalled: Record<string, { S?: string; N?: string }> = {};
    for (const [name, value] of Object.entries(item)) {
      if (typeof value === 'string') marshalled[name] = { S: value };
      else if (typeof value === 'number') marshalled[name] = { N: String(value) };
    }
    Object.assign(error, { Item: marshalled });
  }
  return error;
}

function getPath(item: Item, path: string): unknown {
  let cursor: unknown = item;
  for (const part of path.split('.')) {
    if (typeof cursor !== 'object' || cursor === null) return undefined;
    cursor = (cursor as Item)[part];
  }
  return cursor;
}

function setPath(item: Item, path: string, value: unknown): void {
  const parts = path.split('.');
  let cursor: Item = item;
  for (const part of parts.slice(0, -1)) {
    const next = cursor[part];
    if (typeof next !== 'object' || next === null) {
      throw new Error(`The document path provided in the update expression is invalid: ${path}`);
    }
    cursor = next as Item;
  }
  cursor[parts.at(-1) ?? path] = structuredClone(value);
}

function removePath(item: Item, path: string): void {
  const parts = path.split('.');
  const parent = parts.length === 1 ? item : getPath(item, parts.slice(0, -1).join('.'));
  if (typeof parent === 'object' && parent !== null) delete (parent as Item)[parts.at(-1) ?? ''];
}

/** Evaluates the conditions the store writes: ANDed clauses of exists, IN and <. */
function evaluate(condition: string, item: Item | undefined): boolean {
  const clauses = condition
    .split(/\)\s+AND\s+\(/)
    .map((clause) => clause.replace(/^\(+/, '').replace(/\)+$/, ''));
  return clauses.every((clause) => {
    const exists = /^attribute_exists\(([^)]+)/.exec(clause);
    if (exists?.[1] !== undefined)
      return item !== undefined && getPath(item, exists[1]) !== undefined;
    const absent = /^attribute_not_exists\(([^)]+)/.exec(clause);
    if (absent?.[1] !== undefined)
      return item === undefined || getPath(item, absent[1]) === undefined;
    const inList = /^(\S+) IN \((.*)$/.exec(clause);
    if (inList?.[1] !== undefined && inList[2] !== undefined) {
      const allowed = JSON.parse(`[${inList[2].replace(/\)$/, '')}]`) as unknown[];
      return item !== undefined && allowed.includes(getPath(item, inList[1]));
    }
    const less = /^(\S+) < (.+)$/.exec(clause);
    if (less?.[1] !== undefined && less[2] !== undefined) {
      const current = item === undefined ? undefined : getPath(item, less[1]);
      return typeof current === 'number' && current < Number(JSON.parse(less[2]));
    }
    throw new Error(`the fake table cannot evaluate ${clause}`);
  });
}
