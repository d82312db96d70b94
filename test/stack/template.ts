/**
 * Reads the CloudFormation template that `serverless package` writes, and answers the questions
 * the stack tests ask of it. The template is data produced by the Framework, so it is typed
 * loosely here and every test asserts the shape it relies on.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPOSITORY_ROOT = join(__dirname, '..', '..');

/**
 * The template `npm run package` writes; STACK_TEMPLATE overrides it (a template packaged
 * elsewhere with `packageWith`, to run the stack tests without touching .serverless).
 */
export const TEMPLATE_PATH =
  process.env['STACK_TEMPLATE'] ?? join(REPOSITORY_ROOT, '.serverless', 'cloudformation-template-update-stack.json');

/** A CloudFormation value: a literal or an intrinsic function such as `{ Ref: 'X' }`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CfnValue = any;

export interface CfnResource {
  Type: string;
  Properties: Record<string, CfnValue>;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
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

/** An IAM policy statement, once any `Fn::If` around it is resolved. */
export type Statement = Record<string, CfnValue>;

/** The policy types that can grant a role permissions from outside the role resource itself. */
const ATTACHABLE_POLICY_TYPES = ['AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy'];

/** `{ Ref: '<logical id>' }`'s id, or undefined for any other value. */
const refTo = (value: CfnValue): string | undefined =>
  typeof value === 'object' && value !== null && Object.keys(value).length === 1 && typeof value.Ref === 'string' ? value.Ref : undefined;

/**
 * The policies of the template that an IAM role holds, in the order `roleStatements` flattens
 * them: the customer managed policies of its ManagedPolicyArns (each a `Ref` to an
 * AWS::IAM::ManagedPolicy of the template), then the template's AWS::IAM::ManagedPolicy and
 * AWS::IAM::Policy resources that name the role in their `Roles`, then its inline policies. A
 * grant from elsewhere (an AWS managed policy's ARN, an attachment this cannot resolve) is an
 * error: its statements could not be checked.
 */
export function rolePolicies(template: CfnTemplate, roleId: string): Array<{ source: string; Statement: CfnValue[] }> {
  const role = resource(template, roleId, 'AWS::IAM::Role');
  const statementsOf = (id: string, policy: CfnResource): CfnValue[] => {
    const statement = policy.Properties.PolicyDocument?.Statement;
    if (!Array.isArray(statement)) throw new Error(`${id}: PolicyDocument.Statement is not a list`);
    return statement;
  };
  const managed = ((role.Properties.ManagedPolicyArns ?? []) as CfnValue[]).map((arn) => {
    const id = refTo(arn);
    const policy = id === undefined ? undefined : template.Resources[id];
    if (id === undefined || policy?.Type !== 'AWS::IAM::ManagedPolicy') {
      throw new Error(`${roleId}: ManagedPolicyArns ${JSON.stringify(arn)} is not a managed policy of the template, so its statements cannot be checked`);
    }
    return { source: id, Statement: statementsOf(id, policy) };
  });
  const attached = Object.entries(template.Resources)
    .filter(([, r]) => ATTACHABLE_POLICY_TYPES.includes(r.Type) && r.Properties.Roles !== undefined)
    // A policy whose Condition is false is not created (resources/central.yml CentralPublishPolicy).
    .filter(([, r]) => r.Condition === undefined || evaluateCondition(template, r.Condition))
    // A policy whose Condition is false is not created (resources/central.yml CentralPublishPolicy).
    .filter(([, r]) => r.Condition === undefined || evaluateCondition(template, r.Condition))
    .filter(([id, r]) => {
      const roles = r.Properties.Roles as CfnValue[];
      if (!Array.isArray(roles) || roles.some((value) => refTo(value) === undefined)) {
        throw new Error(`${id}: Roles ${JSON.stringify(roles)} is not a list of Refs, so the roles it grants to cannot be told`);
      }
      return roles.some((value) => refTo(value) === roleId);
    })
    .map(([id, r]) => ({ source: id, Statement: statementsOf(id, r) }));
  const inline = ((role.Properties.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: { Statement: CfnValue[] } }>).map((policy) => ({
    source: `${roleId}/${policy.PolicyName}`,
    Statement: policy.PolicyDocument.Statement,
  }));
  return [...managed, ...attached, ...inline];
}

/**
 * Every policy statement an IAM role holds (`rolePolicies`: its attached managed policies, then
 * its inline policies), flattened, as the template writes them: an element may be an
 * `{ "Fn::If": [condition, statement, statement | AWS::NoValue] }`. For the statements that can be
 * deployed, see `possibleStatements` and `deployedStatements`.
 */
export function roleStatements(template: CfnTemplate, roleId: string): CfnValue[] {
  return rolePolicies(template, roleId).flatMap((policy) => policy.Statement);
}

/**
 * A statement list as the set of single grants it makes: one `Effect Action Resource Condition`
 * line per action and resource (as the template writes them), sorted, without Sids or the way
 * they are grouped into statements and policies. Two lists with the same grants allow and deny
 * the same requests.
 */
export function statementGrants(statements: Statement[]): string[] {
  const grants = new Set<string>();
  for (const s of statements) {
    if (s.NotAction !== undefined || s.NotResource !== undefined) throw new Error(`NotAction / NotResource are not implemented: ${JSON.stringify(s)}`);
    for (const action of asList<string>(s.Action ?? [])) {
      for (const resource of statementResources(s)) {
        grants.add([s.Effect, action, JSON.stringify(resource), JSON.stringify(s.Condition ?? null)].join(' '));
      }
    }
  }
  return [...grants].sort();
}

const isNoValue = (value: CfnValue): boolean =>
  typeof value === 'object' && value !== null && Object.keys(value).length === 1 && value.Ref === 'AWS::NoValue';

/** The `[condition, ifTrue, ifFalse]` of an `Fn::If`, or undefined for any other value. */
function fnIf(value: CfnValue): [string, CfnValue, CfnValue] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('Fn::If' in value)) return undefined;
  const args = value['Fn::If'];
  if (Object.keys(value).length !== 1 || !Array.isArray(args) || args.length !== 3 || typeof args[0] !== 'string') {
    throw new Error(`malformed Fn::If: ${JSON.stringify(value)}`);
  }
  return args as [string, CfnValue, CfnValue];
}

/**
 * Resolves the `Fn::If`s of a statement list with `choose` (the value of each named condition;
 * 'both' keeps both branches): `AWS::NoValue` is no statement. Any other intrinsic function in
 * place of a statement, or a statement without Effect, is an error: it could not be checked.
 */
function resolveStatements(statements: CfnValue[], choose: (condition: string) => boolean | 'both'): Statement[] {
  return statements.flatMap((element): Statement[] => {
    if (isNoValue(element)) return [];
    const branches = fnIf(element);
    if (branches) {
      const [condition, ifTrue, ifFalse] = branches;
      const chosen = choose(condition);
      const taken = chosen === 'both' ? [ifTrue, ifFalse] : [chosen ? ifTrue : ifFalse];
      return resolveStatements(taken, choose);
    }
    if (typeof element !== 'object' || element === null || Array.isArray(element) || typeof element.Effect !== 'string') {
      throw new Error(`not an IAM statement: ${JSON.stringify(element)}`);
    }
    if (Object.keys(element).some((key) => key.startsWith('Fn::'))) {
      throw new Error(`unexpected intrinsic function in place of a statement: ${JSON.stringify(element)}`);
    }
    return [element];
  });
}

/** Every statement some value of the template's conditions deploys: both branches of each `Fn::If`. */
export function possibleStatements(statements: CfnValue[]): Statement[] {
  return resolveStatements(statements, () => 'both');
}

/** The statements CloudFormation deploys, each `Fn::If` decided by the template's own conditions. */
export function deployedStatements(template: CfnTemplate, statements: CfnValue[]): Statement[] {
  return resolveStatements(statements, (condition) => evaluateCondition(template, condition));
}

/**
 * Evaluates a condition of the template statically, as CloudFormation would: `Fn::Not`, `Fn::And`,
 * `Fn::Or`, `Fn::Equals` of literal strings, and `{ Condition: name }`. A param resolved into the
 * template at packaging is a literal; anything else (a CloudFormation Parameter, a Ref) is an error.
 */
export function evaluateCondition(template: CfnTemplate, name: string, seen: string[] = []): boolean {
  if (seen.includes(name)) throw new Error(`condition ${name} refers to itself: ${[...seen, name].join(' -> ')}`);
  const expression = template.Conditions?.[name];
  if (expression === undefined) throw new Error(`condition ${name} is not in the template`);
  return evaluateConditionExpression(expression, (other) => evaluateCondition(template, other, [...seen, name]));
}

/** `evaluateCondition` of one expression; `condition` evaluates a `{ Condition: name }` reference. */
export function evaluateConditionExpression(expression: CfnValue, condition: (name: string) => boolean): boolean {
  const fail = (): never => {
    throw new Error(`cannot evaluate the condition ${JSON.stringify(expression)} statically`);
  };
  if (typeof expression !== 'object' || expression === null || Array.isArray(expression)) return fail();
  const keys = Object.keys(expression);
  if (keys.length !== 1) return fail();
  const [fn] = keys as [string];
  const args = expression[fn];
  const evaluate = (e: CfnValue) => evaluateConditionExpression(e, condition);
  switch (fn) {
    case 'Condition':
      return typeof args === 'string' ? condition(args) : fail();
    case 'Fn::Not':
      return Array.isArray(args) && args.length === 1 ? !evaluate(args[0]) : fail();
    case 'Fn::And':
      return Array.isArray(args) && args.length >= 2 ? args.every(evaluate) : fail();
    case 'Fn::Or':
      return Array.isArray(args) && args.length >= 2 ? args.some(evaluate) : fail();
    case 'Fn::Equals': {
      // Literal strings, and Fn::Join / Fn::Select / Fn::Split of literals (resources/roles.yml CentralPolicyIsS3).
      const values = Array.isArray(args) && args.length === 2 ? args.map(literalOf) : [];
      return values.length === 2 && values.every((a) => typeof a === 'string') ? values[0] === values[1] : fail();
    }
    default:
      return fail();
  }
}

/** A condition's operand as CloudFormation computes it from literals: a string, or a list from Fn::Split; undefined otherwise. */
function literalOf(value: CfnValue): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const join = value['Fn::Join'];
  if (Array.isArray(join) && join.length === 2 && typeof join[0] === 'string' && Array.isArray(join[1])) {
    const parts = (join[1] as CfnValue[]).map(literalOf);
    return parts.every((p) => typeof p === 'string') ? (parts as string[]).join(join[0]) : undefined;
  }
  const split = value['Fn::Split'];
  if (Array.isArray(split) && split.length === 2 && typeof split[0] === 'string') {
    const whole = literalOf(split[1] as CfnValue);
    return typeof whole === 'string' ? whole.split(split[0]) : undefined;
  }
  const select = value['Fn::Select'];
  if (Array.isArray(select) && select.length === 2) {
    const list = literalOf(select[1] as CfnValue);
    const index = Number(select[0]);
    return Array.isArray(list) && Number.isInteger(index) && index >= 0 && index < list.length ? list[index] : undefined;
  }
  return undefined;
}

/**
 * A statement's resources as a list, as IAM receives them: a string or a list; an `Fn::Split` of
 * a literal string (a packaged param) expanded into its parts; an `Fn::If` inside the list
 * contributes both branches. Other values (`Fn::Sub`, `Ref`, `Fn::GetAtt`) are kept as they are;
 * an `Fn::Split` of anything but a literal is an error, since its parts could be `*`.
 */
export function statementResources(statement: Statement): CfnValue[] {
  const expand = (value: CfnValue): CfnValue[] => {
    if (Array.isArray(value)) return value.flatMap(expand);
    if (isNoValue(value)) return [];
    const branches = fnIf(value);
    if (branches) return [...expand(branches[1]), ...expand(branches[2])];
    if (typeof value === 'object' && value !== null && 'Fn::Split' in value) {
      const args = value['Fn::Split'];
      if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string' || typeof args[1] !== 'string') {
        throw new Error(`cannot expand ${JSON.stringify(value)} statically`);
      }
      return (args[1] as string).split(args[0] as string);
    }
    return [value];
  };
  return expand(statement.Resource);
}

/** A statement's Action or Resource as an array (IAM accepts a string or a list). */
export function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Resolves a CloudFormation value as CloudFormation would at deploy time: literals, `Ref`,
 * `Fn::GetAtt` (looked up as `Name.Attribute`), `Fn::Join` and string `Fn::Sub`, with the given
 * values for names and pseudo parameters. Anything else, or a name without a value, is an error.
 */
export function resolveValue(value: CfnValue, values: Record<string, string>): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length !== 1) {
    throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  }
  const lookup = (name: string): string => {
    const found = values[name];
    if (found === undefined) throw new Error(`${name} has no value`);
    return found;
  };
  if (typeof value.Ref === 'string') return lookup(value.Ref);
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt.length === 2) return lookup(`${getAtt[0]}.${getAtt[1]}`);
  const join = value['Fn::Join'];
  if (Array.isArray(join) && join.length === 2 && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return (join[1] as CfnValue[]).map((part) => resolveValue(part, values)).join(join[0]);
  }
  if (typeof value['Fn::Sub'] === 'string') return resolveSub(value, values);
  // `Fn::Sub: [text, { name: value }]`: the named values resolved first.
  const sub = value['Fn::Sub'];
  if (Array.isArray(sub) && sub.length === 2 && typeof sub[0] === 'string' && typeof sub[1] === 'object' && sub[1] !== null) {
    const named = Object.fromEntries(Object.entries(sub[1] as Record<string, CfnValue>).map(([k, v]) => [k, resolveValue(v, values)]));
    return resolveSub({ 'Fn::Sub': sub[0] }, { ...values, ...named });
  }
  // `Fn::Select: [i, { Fn::Split: [delimiter, text] }]`.
  const select = value['Fn::Select'];
  const split = Array.isArray(select) && select.length === 2 ? (select[1] as CfnValue)?.['Fn::Split'] : undefined;
  if (typeof select?.[0] === 'number' && Array.isArray(split) && split.length === 2 && typeof split[0] === 'string') {
    const part = resolveValue(split[1], values).split(split[0])[select[0] as number];
    if (part === undefined) throw new Error(`Fn::Select ${String(select[0])} out of range: ${JSON.stringify(value)}`);
    return part;
  }
  // Fn::Select of an Fn::Split of literals (the central policy's object ARN, resources/roles.yml).
  const literal = literalOf(value);
  if (typeof literal === 'string') return literal;
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** Pseudo parameters of the account and region the stack tests pretend to deploy to. */
export const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  'AWS::StackName': 'eks-ip-responder-test',
};

/**
 * The ARN an `AWS::Events::Rule` gets: `rule/<Name>`, or, for a rule without a Name,
 * CloudFormation's generated one (stack name, logical id, a random suffix; a fixed one here).
 */
export function ruleArn(template: CfnTemplate, logicalId: string): string {
  const rule = resource(template, logicalId, 'AWS::Events::Rule');
  const name: string = rule.Properties.Name ?? `${PSEUDO['AWS::StackName']}-${logicalId}-GENERATED`;
  return `arn:${PSEUDO['AWS::Partition']}:events:${PSEUDO['AWS::Region']}:${PSEUDO['AWS::AccountId']}:rule/${name}`;
}

/**
 * Reads, for the IAM checks: Describe*, List*, Get* and Query (a trailing `*` allowed, as in
 * `ec2:Describe*`). Everything else (a bare `*` or `service:*` included) counts as a write.
 */
export function isReadAction(action: string): boolean {
  return /^[a-z0-9-]+:((Describe|List|Get)[A-Za-z0-9]*\*?|Query)$/i.test(action);
}

/**
 * The actions of Allow statements that are not reads, are on Resource '*' and have no Condition,
 * in every statement the policy could deploy: both branches of an `Fn::If`, the resources of an
 * `Fn::Split` (`possibleStatements`, `statementResources`).
 */
export function unscopedWrites(statements: CfnValue[]): string[] {
  return possibleStatements(statements)
    .filter((s) => s.Effect === 'Allow' && s.Condition === undefined && statementResources(s).includes('*'))
    .flatMap((s) => asList<string>(s.Action ?? []).filter((action) => !isReadAction(action)));
}

/** An IAM action pattern (`*` and `?` wildcards, case-insensitive) as a RegExp. */
export function actionRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

/**
 * Changes to EKS and EC2, and passing roles: what the sampler may never be granted, and what the
 * responder may be granted only with the exact scope iam.test.ts lists.
 */
export const FORBIDDEN_ACTION_PATTERNS = [
  'eks:Update*',
  'eks:Create*',
  'eks:Delete*',
  'eks:Tag*',
  'ec2:Create*',
  'ec2:Modify*',
  'ec2:Assign*',
  'ec2:Attach*',
  'ec2:Delete*',
  'ec2:CreateTags',
  'iam:PassRole',
] as const;

/** Real actions under each forbidden pattern, to catch a granted wildcard (`ec2:*`, `*`, `eks:Up*`). */
const FORBIDDEN_EXAMPLES = [
  'eks:UpdateNodegroupConfig',
  'eks:UpdateClusterConfig',
  'eks:UpdateAddon',
  'eks:CreateNodegroup',
  'eks:CreateAddon',
  'eks:DeleteNodegroup',
  'eks:DeleteCluster',
  'eks:TagResource',
  'ec2:CreateNetworkInterface',
  'ec2:CreateSubnet',
  'ec2:ModifyNetworkInterfaceAttribute',
  'ec2:ModifySubnetAttribute',
  'ec2:AssignPrivateIpAddresses',
  'ec2:AssignIpv6Addresses',
  'ec2:AttachNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DeleteTags',
  'ec2:CreateTags',
  'iam:PassRole',
];

/**
 * The forbidden patterns an Allowed action grants: either the action itself falls under one
 * (`ec2:CreateTags`, `eks:UpdateAddon`) or it is a wildcard that covers a forbidden action.
 */
export function forbiddenGrants(action: string): string[] {
  return FORBIDDEN_ACTION_PATTERNS.filter((forbidden) => {
    if (actionRegExp(forbidden).test(action)) return true;
    const granted = actionRegExp(action);
    return FORBIDDEN_EXAMPLES.some((example) => actionRegExp(forbidden).test(example) && granted.test(example));
  });
}

/**
 * Whether an IAM resource pattern covers an ARN, as IAM matches them: `*` and `?` within each of
 * the first five colon-separated segments, and across `/` and `:` in the resource part. Case-sensitive.
 */
export function arnMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const split = (value: string): string[] => {
    const parts = value.split(':');
    return [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const patternParts = split(pattern);
  const arnParts = split(arn);
  if (patternParts.length !== 6 || arnParts.length !== 6) return false;
  return patternParts.every((part, i) => {
    const body = part
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('');
    return new RegExp(`^${body}$`).test(arnParts[i]!);
  });
}

/**
 * The Sids of the Allow statements that grant `action` on `arn`, the statements' resources
 * resolved with `values` (pseudo parameters, logical ids). Conditions are not evaluated: the
 * caller asserts them.
 */
export function grantingStatements(
  statements: Statement[],
  action: string,
  arn: string,
  values: Record<string, string> = PSEUDO,
): string[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && asList<string>(s.Action ?? []).some((granted) => actionRegExp(granted).test(action)))
    .filter((s) => statementResources(s).some((resource) => arnMatches(resolveValue(resource, values), arn)))
    .map((s) => String(s.Sid));
}

/** Where `packageWith` packages: a service directory of its own, never the repository's .serverless. */
export interface Packaged {
  template: CfnTemplate;
  /** Removes the temporary service directory. */
  remove(): void;
}

/** The stage and region `packageWith` packages for: `npm run package`'s, unless told otherwise. */
export interface PackageOptions {
  /** `--stage`; 'test' by default. */
  stage?: string;
  /** `--region`; 'eu-west-1' by default. */
  region?: string;
  /**
   * Environment variables for `serverless package` on top of this process's own (e.g.
   * `POLICY_FILE`, an absolute path: stack/policy.stack.js reads the policy from it).
   */
  env?: Record<string, string>;
}

/**
 * Packages the stack as `npm run package` does (stage test, region eu-west-1, unless `options`
 * names others), with `--param` overrides and `options.env`, into a temporary directory, and loads
 * the template.
 *
 * osls deletes `<service directory>/.serverless` whenever it packages, even with `--package
 * <dir>`: run in the repository, it would delete the template the other test files are reading.
 * So it runs in a temporary service directory: a copy of serverless.yml, and links to everything
 * else at the repository root (sources, policy.yml, node_modules).
 */
export function packageWith(
  params: Record<string, string>,
  { stage = 'test', region = 'eu-west-1', env = {} }: PackageOptions = {},
): Packaged {
  const serviceDir = mkdtempSync(join(tmpdir(), 'eks-ip-responder-stack-'));
  const remove = () => rmSync(serviceDir, { recursive: true, force: true });
  try {
    for (const entry of readdirSync(REPOSITORY_ROOT)) {
      if (['.serverless', '.esbuild', '.git', 'serverless.yml', 'coverage'].includes(entry)) continue;
      symlinkSync(join(REPOSITORY_ROOT, entry), join(serviceDir, entry));
    }
    copyFileSync(join(REPOSITORY_ROOT, 'serverless.yml'), join(serviceDir, 'serverless.yml'));
    const packageDir = join(serviceDir, 'package');
    const args = ['serverless', 'package', '--stage', stage, '--region', region];
    for (const [name, value] of Object.entries(params)) args.push('--param', `${name}=${value}`);
    args.push('--package', packageDir);
    try {
      execFileSync('npx', args, {
        cwd: serviceDir,
        timeout: 60_000,
        stdio: 'pipe',
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      throw new Error(`npx ${args.join(' ')} failed: ${String(err)}\n${stdout ?? ''}\n${stderr ?? ''}`);
    }
    return { template: loadTemplate(join(packageDir, 'cloudformation-template-update-stack.json')), remove };
  } catch (err) {
    remove();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// A small IAM evaluator, for the questions the templates' statements must answer ("may the
// sampler PutItem with the leading key ACTIONS#x?"). It implements what the stack uses and
// refuses the rest (an unknown operator throws), so that a check cannot pass on something it
// does not understand. Sources: IAM user guide, "Policy evaluation logic" (an explicit Deny wins,
// then an Allow, else implicitly denied), "Condition operators" and "Single-valued vs.
// multivalued context keys" (ForAllValues is true for an absent key, ForAnyValue false; a
// plain operator on an absent key is false; Null 'true' means absent).

/** A context value: a single-valued key is a string, a multivalued one a list. Absent: undefined. */
export type ContextValue = string | string[] | undefined;

/** One request: the action, the ARN it authorises on, and its condition context. */
export interface IamRequest {
  action: string;
  resource: string;
  context?: Record<string, ContextValue>;
}

/** `*` and `?` of StringLike / ArnLike as a RegExp (case-sensitive, like the operators). */
function likeRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

const MATCHERS: Record<string, (actual: string, expected: string) => boolean> = {
  StringEquals: (a, e) => a === e,
  StringLike: (a, e) => likeRegExp(e).test(a),
  ArnLike: (a, e) => likeRegExp(e).test(a),
  Bool: (a, e) => a.toLowerCase() === e.toLowerCase(),
};

/**
 * Whether a statement's Condition holds for a context: every operator, every key in it (AND),
 * any of a key's values (OR). Condition values may be CloudFormation values (`Ref`), resolved
 * with `values`.
 */
export function conditionHolds(
  condition: CfnValue | undefined,
  context: Record<string, ContextValue>,
  values: Record<string, string> = PSEUDO,
): boolean {
  if (condition === undefined) return true;
  return Object.entries(condition as Record<string, Record<string, CfnValue>>).every(([operator, keys]) =>
    Object.entries(keys).every(([key, raw]) => {
      const expected = asList<CfnValue>(raw).map((v) => resolveValue(v, values));
      const actual = context[key];
      if (operator === 'Null') {
        if (expected.length !== 1 || !['true', 'false'].includes(expected[0]!)) throw new Error(`Null takes 'true' or 'false': ${JSON.stringify(raw)}`);
        return (actual === undefined) === (expected[0] === 'true');
      }
      const [qualifier, base] = operator.includes(':') ? (operator.split(':') as [string, string]) : [undefined, operator];
      const match = MATCHERS[base];
      if (!match) throw new Error(`condition operator ${operator} is not implemented by this evaluator`);
      const matchesOne = (value: string) => expected.some((e) => match(value, e));
      if (qualifier === 'ForAllValues') return actual === undefined || asList(actual).every(matchesOne);
      if (qualifier === 'ForAnyValue') return actual !== undefined && asList(actual).some(matchesOne);
      if (qualifier !== undefined) throw new Error(`condition qualifier ${qualifier} is not implemented by this evaluator`);
      if (Array.isArray(actual)) throw new Error(`${key} is multivalued: ${operator} needs ForAllValues or ForAnyValue`);
      return actual !== undefined && matchesOne(actual);
    }),
  );
}

/**
 * How IAM answers a request under an identity policy's statements: 'explicit-deny' when a Deny
 * applies (action, resource and condition), else 'allowed' when an Allow does, else
 * 'implicit-deny'. Resources are resolved with `values`; NotAction / NotResource are refused.
 */
export function evaluateRequest(
  statements: Statement[],
  request: IamRequest,
  values: Record<string, string> = PSEUDO,
): 'allowed' | 'explicit-deny' | 'implicit-deny' {
  const applies = (s: Statement) => {
    if (s.NotAction !== undefined || s.NotResource !== undefined) throw new Error(`NotAction / NotResource are not implemented: ${JSON.stringify(s)}`);
    return (
      asList<string>(s.Action ?? []).some((a) => actionRegExp(a).test(request.action)) &&
      statementResources(s).some((r) => arnMatches(resolveValue(r, values), request.resource)) &&
      conditionHolds(s.Condition, request.context ?? {}, values)
    );
  };
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return 'explicit-deny';
  if (statements.some((s) => s.Effect === 'Allow' && applies(s))) return 'allowed';
  return 'implicit-deny';
}
