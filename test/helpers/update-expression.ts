/**
 * Reads back what an UpdateItem input writes, so tests assert the attributes, values and
 * conditions of a write rather than the text of its expression.
 */

export interface DecodedUpdate {
  /** Attribute path (`a` or `a.b`) → value set; `if_not_exists` values under `setIfAbsent`. */
  readonly set: Record<string, unknown>;
  readonly setIfAbsent: Record<string, unknown>;
  readonly add: Record<string, unknown>;
  readonly remove: string[];
  /** The condition with its names and values spelled out (values as JSON). */
  readonly condition: string | undefined;
}

interface UpdateInput {
  readonly UpdateExpression?: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const character of text) {
    if (character === '(') depth++;
    if (character === ')') depth--;
    if (character === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += character;
    }
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

export function decodeUpdate(input: UpdateInput | undefined): DecodedUpdate {
  const names = input?.ExpressionAttributeNames ?? {};
  const values = input?.ExpressionAttributeValues ?? {};
  const path = (text: string): string =>
    text
      .trim()
      .split('.')
      .map((part) => names[part] ?? part)
      .join('.');
  const value = (text: string): unknown => values[text.trim()];
  const decoded: DecodedUpdate = {
    set: {},
    setIfAbsent: {},
    add: {},
    remove: [],
    condition: undefined,
  };
  const expression = input?.UpdateExpression ?? '';
  const clauses = expression.split(/\b(SET|ADD|REMOVE)\s/).filter((part) => part.trim() !== '');
  for (let index = 0; index < clauses.length; index += 2) {
    const keyword = clauses[index];
    const body = clauses[index + 1] ?? '';
    for (const part of splitTopLevel(body)) {
      if (keyword === 'SET') {
        const [left = '', right = ''] = part.split(/=(.*)/s);
        const ifAbsent = /^if_not_exists\(\s*[^,]+,\s*([^)]+)\)$/.exec(right.trim());
        if (ifAbsent?.[1] !== undefined) decoded.setIfAbsent[path(left)] = value(ifAbsent[1]);
        else decoded.set[path(left)] = value(right);
      } else if (keyword === 'ADD') {
        const [left = '', right = ''] = part.trim().split(/\s+/);
        decoded.add[path(left)] = value(right);
      } else if (keyword === 'REMOVE') {
        decoded.remove.push(path(part));
      }
    }
  }
  const condition = input?.ConditionExpression?.replace(
    /#[A-Za-z0-9_]+/g,
    (name) => names[name] ?? name,
  ).replace(/:[A-Za-z0-9_]+/g, (alias) => JSON.stringify(values[alias]));
  return { ...decoded, condition };
}
