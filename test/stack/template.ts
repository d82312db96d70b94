/**
 * Reads the CloudFormation template that `serverless package` writes, and answers the questions
 * the stack tests ask of it. The template is data produced by the Framework, so it is typed
 * loosely here and every test asserts the shape it relies on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TEMPLATE_PATH = join(
  __dirname,
  '..',
  '..',
  '.serverless',
  'cloudformation-template-update-stack.json',
);

/** A CloudFormation value: a literal or an intrinsic function such as `{ Ref: 'X' }`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CfnValue = any;

export interface CfnResource {
  Type: string;
  Properties: Record<string, CfnValue>;
  Condition?: string;
  DependsOn?: string | string[];
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Conditions?: Record<string, CfnValue>;
  Outputs?: Record<string, { Value: CfnValue; Description?: string }>;
}

/** Loads the packaged template; fails with the command to run when it has not been packaged. */
export function loadTemplate(path: string = TEMPLATE_PATH): CfnTemplate {
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: run \`npm run package\` (serverless package --stage test --region eu-west-1) before the stack tests`,
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
}

/** Every resource of a type, as [logicalId, resource] pairs in template order. */
export function resourcesOfType(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The one resource with this logical id and type; throws if it is absent or of another type. */
export function resource(template: CfnTemplate, logicalId: string, type: string): CfnResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`resource ${logicalId} is not in the template`);
  if (found.Type !== type) throw new Error(`resource ${logicalId} is a ${found.Type}, not a ${type}`);
  return found;
}

/**
 * Resolves an `Fn::Sub` string with the given values for `${Name}` and `${Name.Attribute}`,
 * as CloudFormation would at deploy time. A placeholder without a value is an error, so that a
 * typo in the template cannot hide behind the dummy values.
 */
export function resolveSub(sub: CfnValue, values: Record<string, string>): string {
  if (typeof sub !== 'object' || sub === null || typeof sub['Fn::Sub'] !== 'string') {
    throw new Error(`expected { "Fn::Sub": "<string>" }, got ${JSON.stringify(sub)}`);
  }
  const text: string = sub['Fn::Sub'];
  // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
  return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, bang: string, name: string) => {
    if (bang) return `\${${name}}`;
    const value = values[name];
    if (value === undefined) throw new Error(`Fn::Sub placeholder \${${name}} has no value`);
    return value;
  });
}

/** The policy statements of an IAM role's inline policies, flattened. */
export function roleStatements(role: CfnResource): Array<Record<string, CfnValue>> {
  const policies: Array<{ PolicyDocument: { Statement: Array<Record<string, CfnValue>> } }> =
    role.Properties.Policies ?? [];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

/** A statement's Action or Resource as an array (IAM accepts a string or a list). */
export function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}
