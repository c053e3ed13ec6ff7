/**
 * Reads the synthesized CloudFormation template in cdk.out and turns it into what the local
 * stack creates and runs: queues, tables, functions (with their bundled assets), SQS event
 * source mappings and REST API routes. This is the only definition of the local resources,
 * so local runs cannot drift from what `cdk deploy` creates.
 *
 * Intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split) are resolved against
 * the local physical names, URLs and ARNs by `TemplateResolver`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readStackArtifact } from './assembly.ts';
import {
  isJsonObject as isObject,
  type Json,
  type JsonObject,
  optionalObject,
  parseObject,
  parseString,
} from './json.ts';

export type { Json } from './json.ts';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: JsonObject;
  readonly Metadata?: JsonObject;
  readonly DependsOn?: Json;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { Default?: Json }>;
}

export interface QueueSpec {
  readonly logicalId: string;
  readonly name: string;
  /** CloudFormation properties, still holding intrinsics (RedrivePolicy refers to the DLQ). */
  readonly properties: JsonObject;
  /** Logical id of the queue that RedrivePolicy.deadLetterTargetArn names, if any. */
  readonly deadLetterQueueLogicalId: string | undefined;
}

export interface TableSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly type: 'AWS::DynamoDB::Table' | 'AWS::DynamoDB::GlobalTable';
  readonly properties: JsonObject;
}

export interface FunctionSpec {
  readonly logicalId: string;
  readonly name: string;
  /** The construct path (`aws:cdk:path`), e.g. `FanoutStack/Worker/Resource`. */
  readonly cdkPath: string | undefined;
  /** Absolute path of the bundled asset directory in cdk.out, if the function has one. */
  readonly assetDir: string | undefined;
  /** `index.handler` → module `index`, export `handler`. */
  readonly handler: string;
  readonly runtime: string | undefined;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  readonly reservedConcurrency: number | undefined;
  /** Environment variables, still holding intrinsics. */
  readonly environment: JsonObject;
}

export interface EventSourceMappingSpec {
  readonly logicalId: string;
  readonly functionLogicalId: string;
  readonly queueLogicalId: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly maximumConcurrency: number | undefined;
  readonly reportBatchItemFailures: boolean;
  readonly enabled: boolean;
}

export interface ApiRouteSpec {
  readonly httpMethod: string;
  /** Resource path as API Gateway names it, e.g. `/jobs/{jobId}`. */
  readonly resourcePath: string;
  readonly authorizationType: string;
  readonly integrationType: string;
  /** The function behind an AWS_PROXY integration. */
  readonly functionLogicalId: string | undefined;
  /** What a MOCK integration (e.g. a CORS preflight) answers. */
  readonly mockResponse: { readonly statusCode: number; readonly headers: Record<string, string> };
}

export interface RestApiSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly stageName: string;
  readonly binaryMediaTypes: readonly string[];
  /** Responses at least this large are gzipped for clients that accept it; undefined: never. */
  readonly minimumCompressionSize: number | undefined;
  readonly routes: readonly ApiRouteSpec[];
}

export interface StackModel {
  readonly stackName: string;
  readonly cdkOutDir: string;
  readonly templatePath: string;
  readonly template: CfnTemplate;
  readonly queues: readonly QueueSpec[];
  readonly tables: readonly TableSpec[];
  readonly functions: readonly FunctionSpec[];
  readonly eventSourceMappings: readonly EventSourceMappingSpec[];
  readonly restApis: readonly RestApiSpec[];
}

function asString(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asNumber(value: Json | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
}

/** The logical id that `{Ref: X}` or `{Fn::GetAtt: [X, …]}` names, if `value` is one. */
export function referencedLogicalId(value: Json | undefined): string | undefined {
  if (!isObject(value)) return undefined;
  const ref = value.Ref;
  if (typeof ref === 'string') return ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** Every logical id referenced anywhere inside `value`. */
function allReferences(value: Json | undefined, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) allReferences(item, found);
  } else if (isObject(value)) {
    const id = referencedLogicalId(value);
    if (id !== undefined) found.push(id);
    for (const item of Object.values(value)) allReferences(item, found);
  }
  return found;
}

/** A name made of what SQS, DynamoDB and Lambda all accept. */
function localName(name: string, maxLength: number): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, maxLength);
}

function parseHandler(handler: string): { module: string; exportName: string } {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new Error(`handler '${handler}' is not <module>.<export>`);
  return { module: handler.slice(0, dot), exportName: handler.slice(dot + 1) };
}

/** The bundled file that a function's `Handler` names inside its asset directory. */
export function handlerFile(spec: FunctionSpec): { file: string; exportName: string } {
  if (spec.assetDir === undefined) {
    throw new Error(
      `function ${spec.logicalId} has no bundled asset in cdk.out (no aws:asset:path metadata)`,
    );
  }
  const { module, exportName } = parseHandler(spec.handler);
  for (const extension of ['.mjs', '.js', '.cjs']) {
    const file = join(spec.assetDir, `${module}${extension}`);
    if (existsSync(file)) return { file, exportName };
  }
  throw new Error(
    `function ${spec.logicalId}: ${module}.mjs/.js/.cjs not found in ${spec.assetDir}`,
  );
}

function apiRoutes(template: CfnTemplate, restApiId: string): ApiRouteSpec[] {
  const resources = template.Resources;
  const paths = new Map<string, string>();
  const pathOf = (resourceRef: Json | undefined, depth = 0): string => {
    if (depth > 64) throw new Error('API resource tree is cyclic');
    if (isObject(resourceRef) && resourceRef['Fn::GetAtt'] !== undefined) return '/'; // RootResourceId
    const id = referencedLogicalId(resourceRef);
    if (id === undefined)
      throw new Error(`cannot follow API resource reference ${JSON.stringify(resourceRef)}`);
    const known = paths.get(id);
    if (known !== undefined) return known;
    const resource = resources[id];
    if (resource?.Type !== 'AWS::ApiGateway::Resource') {
      throw new Error(`API resource ${id} is not an AWS::ApiGateway::Resource`);
    }
    const parent = pathOf(resource.Properties?.ParentId, depth + 1);
    const path = `${parent === '/' ? '' : parent}/${asString(resource.Properties?.PathPart) ?? ''}`;
    paths.set(id, path);
    return path;
  };
  const routes: ApiRouteSpec[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::ApiGateway::Method') continue;
    const props = resource.Properties ?? {};
    if (referencedLogicalId(props.RestApiId) !== restApiId) continue;
    const integration = isObject(props.Integration) ? props.Integration : {};
    const functionLogicalId = allReferences(integration.Uri).find(
      (id) => resources[id]?.Type === 'AWS::Lambda::Function',
    );
    const integrationResponses = Array.isArray(integration.IntegrationResponses)
      ? integration.IntegrationResponses
      : [];
    const firstResponse = isObject(integrationResponses[0]) ? integrationResponses[0] : {};
    const headers: Record<string, string> = {};
    const parameters = isObject(firstResponse.ResponseParameters)
      ? firstResponse.ResponseParameters
      : {};
    for (const [key, value] of Object.entries(parameters)) {
      const header = /^method\.response\.header\.(.+)$/.exec(key)?.[1];
      // Static values are single-quoted in API Gateway mappings.
      if (header !== undefined && typeof value === 'string')
        headers[header] = value.replace(/^'|'$/g, '');
    }
    routes.push({
      mockResponse: { statusCode: asNumber(firstResponse.StatusCode) ?? 200, headers },
      httpMethod: (asString(props.HttpMethod) ?? 'ANY').toUpperCase(),
      resourcePath: pathOf(props.ResourceId),
      authorizationType: asString(props.AuthorizationType) ?? 'NONE',
      integrationType: asString(integration.Type) ?? 'MOCK',
      functionLogicalId,
    });
  }
  return routes;
}

function stageName(template: CfnTemplate, restApiId: string): string {
  for (const resource of Object.values(template.Resources)) {
    const props = resource.Properties ?? {};
    if (
      (resource.Type === 'AWS::ApiGateway::Stage' ||
        resource.Type === 'AWS::ApiGateway::Deployment') &&
      referencedLogicalId(props.RestApiId) === restApiId &&
      typeof props.StageName === 'string'
    ) {
      return props.StageName;
    }
  }
  return 'prod';
}

/** A template's resources and parameters, checked: an error names the first bad field. */
export function parseTemplate(value: unknown, where: string): CfnTemplate {
  const template = parseObject(value, where);
  if (template.Resources === undefined) throw new TypeError(`${where} has no Resources`);
  const resources: Record<string, CfnResource> = {};
  for (const [logicalId, item] of Object.entries(
    parseObject(template.Resources, `${where}: Resources`),
  )) {
    const resource = parseObject(item, `${where}: Resources.${logicalId}`);
    const properties = optionalObject(
      resource.Properties,
      `${where}: Resources.${logicalId}.Properties`,
    );
    const metadata = optionalObject(resource.Metadata, `${where}: Resources.${logicalId}.Metadata`);
    resources[logicalId] = {
      Type: parseString(resource.Type, `${where}: Resources.${logicalId}.Type`),
      ...(properties === undefined ? {} : { Properties: properties }),
      ...(metadata === undefined ? {} : { Metadata: metadata }),
      ...(resource.DependsOn === undefined ? {} : { DependsOn: resource.DependsOn }),
    };
  }
  const parameters: Record<string, { Default?: Json }> = {};
  const declared = optionalObject(template.Parameters, `${where}: Parameters`) ?? {};
  for (const [name, item] of Object.entries(declared)) {
    const parameter = parseObject(item, `${where}: Parameters.${name}`);
    parameters[name] = parameter.Default === undefined ? {} : { Default: parameter.Default };
  }
  return { Resources: resources, Parameters: parameters };
}

/** Reads a stack of a cloud assembly (cdk.out) and parses its template into the local model. */
export async function loadStackModel(cdkOutDir: string, stackName?: string): Promise<StackModel> {
  const found = await readStackArtifact(cdkOutDir, stackName);
  const template = parseTemplate(found.template, found.templatePath);
  const queues: QueueSpec[] = [];
  const tables: TableSpec[] = [];
  const functions: FunctionSpec[] = [];
  const eventSourceMappings: EventSourceMappingSpec[] = [];
  const restApis: RestApiSpec[] = [];

  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::SQS::Queue': {
        const redrive = isObject(props.RedrivePolicy) ? props.RedrivePolicy : undefined;
        queues.push({
          logicalId,
          name: localName(asString(props.QueueName) ?? logicalId, 80),
          properties: props,
          deadLetterQueueLogicalId: referencedLogicalId(redrive?.deadLetterTargetArn),
        });
        break;
      }
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        tables.push({
          logicalId,
          name: localName(asString(props.TableName) ?? logicalId, 255),
          type: resource.Type,
          properties: props,
        });
        break;
      case 'AWS::Lambda::Function': {
        const assetPath = asString(resource.Metadata?.['aws:asset:path']);
        const environment = isObject(props.Environment) ? props.Environment.Variables : undefined;
        functions.push({
          logicalId,
          name: localName(asString(props.FunctionName) ?? `${found.stackName}-${logicalId}`, 64),
          cdkPath: asString(resource.Metadata?.['aws:cdk:path']),
          assetDir: assetPath === undefined ? undefined : join(cdkOutDir, assetPath),
          handler: asString(props.Handler) ?? 'index.handler',
          runtime: asString(props.Runtime),
          // CloudFormation's defaults: 3 s and 128 MB.
          timeoutSeconds: asNumber(props.Timeout) ?? 3,
          memorySizeMb: asNumber(props.MemorySize) ?? 128,
          reservedConcurrency: asNumber(props.ReservedConcurrentExecutions),
          environment: isObject(environment) ? environment : {},
        });
        break;
      }
      case 'AWS::Lambda::EventSourceMapping': {
        const queueLogicalId = referencedLogicalId(props.EventSourceArn);
        const functionLogicalId = referencedLogicalId(props.FunctionName);
        if (queueLogicalId === undefined || functionLogicalId === undefined) break;
        if (template.Resources[queueLogicalId]?.Type !== 'AWS::SQS::Queue') break;
        const scaling = isObject(props.ScalingConfig) ? props.ScalingConfig : {};
        const responseTypes = Array.isArray(props.FunctionResponseTypes)
          ? props.FunctionResponseTypes
          : [];
        eventSourceMappings.push({
          logicalId,
          functionLogicalId,
          queueLogicalId,
          // Lambda's defaults for SQS: 10 records, no batching window.
          batchSize: asNumber(props.BatchSize) ?? 10,
          maximumBatchingWindowSeconds: asNumber(props.MaximumBatchingWindowInSeconds) ?? 0,
          maximumConcurrency: asNumber(scaling.MaximumConcurrency),
          reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
          enabled: props.Enabled !== false,
        });
        break;
      }
      case 'AWS::ApiGateway::RestApi':
        restApis.push({
          logicalId,
          name: asString(props.Name) ?? logicalId,
          stageName: stageName(template, logicalId),
          binaryMediaTypes: Array.isArray(props.BinaryMediaTypes)
            ? props.BinaryMediaTypes.filter((type): type is string => typeof type === 'string')
            : [],
          minimumCompressionSize: asNumber(props.MinimumCompressionSize),
          routes: apiRoutes(template, logicalId),
        });
        break;
      default:
        break;
    }
  }
  return {
    stackName: found.stackName,
    cdkOutDir,
    templatePath: found.templatePath,
    template,
    queues,
    tables,
    functions,
    eventSourceMappings,
    restApis,
  };
}

/** What a logical id stands for locally: its `Ref` value and its `Fn::GetAtt` attributes. */
export interface PhysicalResource {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
}

/** Resolves CloudFormation intrinsics against local physical resources. */
export class TemplateResolver {
  readonly #physical: ReadonlyMap<string, PhysicalResource>;
  readonly #pseudo: Readonly<Record<string, string>>;
  readonly #parameters: Record<string, { Default?: Json }>;

  constructor(
    physical: ReadonlyMap<string, PhysicalResource>,
    pseudo: PseudoParameters,
    parameters: Record<string, { Default?: Json }> = {},
  ) {
    this.#physical = physical;
    this.#parameters = parameters;
    this.#pseudo = {
      'AWS::Region': pseudo.region,
      'AWS::AccountId': pseudo.accountId,
      'AWS::StackName': pseudo.stackName,
      'AWS::StackId': `arn:aws:cloudformation:${pseudo.region}:${pseudo.accountId}:stack/${pseudo.stackName}/local`,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::NoValue': '',
    };
  }

  #ref(name: string): string {
    const pseudo = this.#pseudo[name];
    if (pseudo !== undefined) return pseudo;
    const physical = this.#physical.get(name);
    if (physical !== undefined) return physical.ref;
    const parameter = this.#parameters[name];
    if (parameter !== undefined && parameter.Default !== undefined)
      return String(parameter.Default);
    throw new Error(`cannot resolve {Ref: ${name}} locally: no such local resource or parameter`);
  }

  #getAtt(name: string, attribute: string): string {
    const physical = this.#physical.get(name);
    const value = physical?.attributes[attribute];
    if (value === undefined) {
      throw new Error(`cannot resolve {Fn::GetAtt: [${name}, ${attribute}]} locally`);
    }
    return value;
  }

  #sub(text: string, variables: JsonObject): string {
    return text.replace(/\$\{([^}]+)\}/g, (_whole, expression: string) => {
      if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
      const variable = variables[expression];
      if (variable !== undefined) return this.resolveString(variable);
      const dot = expression.indexOf('.');
      if (dot > 0 && !expression.startsWith('AWS::')) {
        return this.#getAtt(expression.slice(0, dot), expression.slice(dot + 1));
      }
      return this.#ref(expression);
    });
  }

  /** Resolves every intrinsic inside `value`. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const key = keys[0] as string;
      const argument = value[key] as Json;
      switch (key) {
        case 'Ref':
          return this.#ref(String(argument));
        case 'Fn::GetAtt': {
          const [name, ...path] = Array.isArray(argument)
            ? argument.map(String)
            : String(argument).split('.');
          return this.#getAtt(String(name), path.join('.'));
        }
        case 'Fn::Join': {
          const [separator, list] = argument as [Json, Json];
          const items = this.resolve(list);
          if (!Array.isArray(items)) throw new Error('Fn::Join needs a list');
          return items.map(String).join(String(separator));
        }
        case 'Fn::Sub': {
          if (typeof argument === 'string') return this.#sub(argument, {});
          const [text, variables] = argument as [Json, Json];
          return this.#sub(String(text), isObject(variables) ? variables : {});
        }
        case 'Fn::Select': {
          const [index, list] = argument as [Json, Json];
          const items = this.resolve(list);
          if (!Array.isArray(items)) throw new Error('Fn::Select needs a list');
          const item = items[Number(this.resolve(index))];
          if (item === undefined) throw new Error('Fn::Select index out of range');
          return item;
        }
        case 'Fn::Split': {
          const [separator, text] = argument as [Json, Json];
          return this.resolveString(text).split(String(separator));
        }
        case 'Fn::Base64':
          return Buffer.from(this.resolveString(argument)).toString('base64');
        default:
          if (key.startsWith('Fn::')) throw new Error(`intrinsic ${key} is not supported locally`);
      }
    }
    const resolved: JsonObject = {};
    for (const [key, item] of Object.entries(value)) resolved[key] = this.resolve(item);
    return resolved;
  }

  resolveString(value: Json): string {
    const resolved = this.resolve(value);
    return typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
  }
}
