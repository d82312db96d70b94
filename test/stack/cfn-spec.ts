/**
 * Validates a CloudFormation template against the CloudFormation resource specification (the
 * data of the `@aws-cdk/cfnspec` package): resource types, properties, required properties,
 * primitive, list, map and nested property types, `Fn::GetAtt` attributes and every name a `Ref`,
 * `Fn::GetAtt`, `Fn::Sub`, `Condition` or `DependsOn` refers to: much of what CloudFormation
 * checks when it receives a template, run offline so that `npm test` fails before a deploy does.
 *
 * The data is the specification's v117.0.0 (spring 2023, `@aws-cdk/cfnspec` 2.72.1, its latest
 * release): a property or attribute CloudFormation added since (Lambda's LoggingConfig, a log
 * group's LogGroupClass) is reported as unknown, and needs newer data, not an exception here.
 *
 * `validateTemplate` is pure: the template and the specification are arguments (`validateTemplateFile`
 * reads a file and the package's data with SPEC_SUPPLEMENT), and every problem is returned as a
 * readable string, `<path>: <problem>`, e.g.
 * `Resources.LedgerTable.Properties.Foo: unknown property of AWS::DynamoDB::Table`.
 *
 * Sources of the rules, cited below by page name:
 * - CloudFormation User Guide, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/<page>.html:
 *   template anatomy (`template-anatomy`), its sections (`resources-section-structure`,
 *   `parameters-section-structure`, `conditions-section-structure`, `outputs-section-structure`,
 *   `template-description-structure`, `format-version-structure`) and the specification's format
 *   (`cfn-resource-specification-format`);
 * - CloudFormation Template Reference, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/<page>.html:
 *   resource attributes (`aws-product-attribute-reference`, `aws-attribute-deletionpolicy`,
 *   `aws-attribute-updatereplacepolicy`, `aws-attribute-condition`, `aws-attribute-dependson`),
 *   intrinsic functions (`intrinsic-function-reference` and one page per function:
 *   `intrinsic-function-reference-ref`, `-getatt`, `-sub`, `-join`, `-split`, `-select`,
 *   `-getavailabilityzones`, `-importvalue`, `-base64`, `-findinmap`, `-cidr`, and `-conditions`
 *   for Fn::If, Fn::And, Fn::Equals, Fn::Not, Fn::Or and Condition), pseudo parameters
 *   (`pseudo-parameter-reference`).
 */
import { readFileSync } from 'node:fs';
import { specification, type schema } from '@aws-cdk/cfnspec';

/** The resource specification, as `require('@aws-cdk/cfnspec').specification()` returns it. */
export type CfnSpecification = schema.Specification;

/**
 * AWS::EKS::AccessEntry (December 2023) is newer than the specification data (v117, spring 2023):
 * its properties as the CloudFormation Template Reference lists them
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-eks-accessentry.html:
 * ClusterName and PrincipalArn String, required, replacement; KubernetesGroups List of String;
 * Type and Username String; Tags List of Tag; attribute AccessEntryArn), without AccessPolicies
 * (a list of a property type this stack does not use, so it is reported as unknown if it ever is).
 */
export const ACCESS_ENTRY_SPEC = {
  Documentation: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-eks-accessentry.html',
  Attributes: { AccessEntryArn: { PrimitiveType: 'String' } },
  Properties: {
    ClusterName: { PrimitiveType: 'String', Required: true, UpdateType: 'Immutable' },
    PrincipalArn: { PrimitiveType: 'String', Required: true, UpdateType: 'Immutable' },
    KubernetesGroups: { Type: 'List', PrimitiveItemType: 'String', DuplicatesAllowed: false, Required: false, UpdateType: 'Mutable' },
    Type: { PrimitiveType: 'String', Required: false, UpdateType: 'Immutable' },
    Username: { PrimitiveType: 'String', Required: false, UpdateType: 'Mutable' },
    Tags: { Type: 'List', ItemType: 'Tag', DuplicatesAllowed: false, Required: false, UpdateType: 'Mutable' },
  },
};

/**
 * What the specification data lacks and the project's templates use, each from its Template
 * Reference page (cited at its entry): a type absent from the data is added whole; for a type the
 * data has, the Properties and Attributes listed are added (the data's own entries win). Add here,
 * with the page, what a new template needs; never a type or property the page does not list.
 */
export const SPEC_SUPPLEMENT: Readonly<Record<string, { Properties?: Record<string, unknown>; Attributes?: Record<string, unknown>; Documentation?: string }>> = {
  'AWS::EKS::AccessEntry': ACCESS_ENTRY_SPEC,
};

/** The specification with a supplement merged in (a copy of the types it touches). */
export function withSupplement(spec: CfnSpecification, supplement = SPEC_SUPPLEMENT): CfnSpecification {
  const types = { ...(spec.ResourceTypes as Record<string, Json>) };
  for (const [type, extra] of Object.entries(supplement)) {
    const own = types[type];
    types[type] = own
      ? { ...own, Properties: { ...extra.Properties, ...own.Properties }, Attributes: { ...extra.Attributes, ...own.Attributes } }
      : extra;
  }
  return { ...spec, ResourceTypes: types } as CfnSpecification;
}

let loaded: CfnSpecification | undefined;

/** `@aws-cdk/cfnspec`'s specification with SPEC_SUPPLEMENT, loaded once. */
export function loadSpecification(): CfnSpecification {
  loaded ??= withSupplement(specification());
  return loaded;
}

/**
 * Validates any template: a parsed template, or the path of a JSON template file (what
 * `serverless package` and `npm run package:org` write), against `loadSpecification()` unless
 * another specification is given. Returns every problem, none when valid.
 */
export function validateTemplateFile(template: string | object, spec: CfnSpecification = loadSpecification()): string[] {
  const parsed: unknown = typeof template === 'string' ? JSON.parse(readFileSync(template, 'utf8')) : template;
  return validateTemplate(parsed, spec);
}

/**
 * The sections a template may have (template anatomy). `Rules` is documented there too (for
 * parameter constraints) although the packaged templates never use it.
 */
export const TEMPLATE_SECTIONS = [
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
] as const;

/** The one template format version there is (`format-version-structure`). */
const FORMAT_VERSION = '2010-09-09';

/**
 * The keys of a resource: its Type and Properties, and the resource attributes (the
 * `aws-product-attribute-reference` page lists CreationPolicy, DeletionPolicy, DependsOn,
 * Metadata, UpdatePolicy and UpdateReplacePolicy; `Condition` is in `aws-attribute-condition`).
 */
const RESOURCE_KEYS = [
  'Type',
  'Properties',
  'Condition',
  'DependsOn',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
];

/** The keys of an output (`outputs-section-structure`). */
const OUTPUT_KEYS = ['Description', 'Value', 'Export', 'Condition'];

/**
 * Pseudo parameters (`pseudo-parameter-reference`): what a `Ref` or an `Fn::Sub` placeholder may
 * name besides the template's resources and parameters.
 */
export const PSEUDO_PARAMETERS = [
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
] as const;

/**
 * DeletionPolicy values (`aws-attribute-deletionpolicy`). The specification does not hold them:
 * resource attributes are not in it. RetainExceptOnCreate (July 2023) is a DeletionPolicy only;
 * UpdateReplacePolicy takes Delete, Retain and Snapshot (`aws-attribute-updatereplacepolicy`).
 */
export const DELETION_POLICIES = ['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot'] as const;
export const UPDATE_REPLACE_POLICIES = ['Delete', 'Retain', 'Snapshot'] as const;

/**
 * The resource types for which CloudFormation can take a snapshot before it deletes or replaces
 * the resource: the list under "Snapshot" in `aws-attribute-deletionpolicy`.
 */
export const SNAPSHOT_TYPES = [
  'AWS::DocDB::DBCluster',
  'AWS::EC2::Volume',
  'AWS::ElastiCache::CacheCluster',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::Neptune::DBCluster',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::Redshift::Cluster',
] as const;

/**
 * The intrinsic functions a property or output value may be (`intrinsic-function-reference`).
 * Fn::Length, Fn::ToJsonString and Fn::ForEach need the AWS::LanguageExtensions transform and
 * are not accepted here: the packaged templates declare no transform.
 */
const VALUE_FUNCTIONS = [
  'Ref',
  'Fn::Base64',
  'Fn::Cidr',
  'Fn::FindInMap',
  'Fn::GetAtt',
  'Fn::GetAZs',
  'Fn::If',
  'Fn::ImportValue',
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
  'Fn::Sub',
];

/** Condition functions: valid in the Conditions section only (`intrinsic-function-reference-conditions`). */
const CONDITION_FUNCTIONS = ['Fn::And', 'Fn::Equals', 'Fn::Not', 'Fn::Or', 'Condition'];

/**
 * Logical ids of resources, parameters and outputs are alphanumeric (A-Za-z0-9), at most 255
 * characters (`resources-section-structure`, `parameters-section-structure`,
 * `outputs-section-structure`).
 */
const LOGICAL_ID = /^[A-Za-z0-9]{1,255}$/;

// The template is data: a literal, a list, an object, or an intrinsic function in their place.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * A value's expected shape, normalised from the specification's property format
 * (`cfn-resource-specification-format`): a PrimitiveType, a named property type (an object), a
 * List or Map of either, or a union (the few properties with PrimitiveTypes / Types /
 * ItemTypes, which accept any one of them).
 */
type Shape =
  | { kind: 'primitive'; primitive: string }
  | { kind: 'object'; type: string }
  | { kind: 'list'; item: Shape }
  | { kind: 'map'; item: Shape }
  | { kind: 'union'; options: Shape[] }
  | { kind: 'any' };

/** A property of the specification, every field the format has, all optional. */
interface SpecProperty {
  Required?: boolean;
  PrimitiveType?: string;
  Type?: string;
  ItemType?: string;
  PrimitiveItemType?: string;
  PrimitiveItemItemType?: string;
  PrimitiveTypes?: string[];
  Types?: string[];
  PrimitiveItemTypes?: string[];
  ItemTypes?: string[];
  InclusivePrimitiveItemTypes?: string[];
  InclusiveItemTypes?: string[];
  Properties?: Record<string, SpecProperty>;
}

/** What a value-producing intrinsic function returns, as far as it can be known statically. */
type Produces = 'single' | 'list' | 'unknown';

interface Context {
  spec: CfnSpecification;
  resources: Record<string, Json>;
  parameters: Record<string, Json>;
  conditions: Record<string, Json>;
  mappings: Record<string, Json>;
  /** Inside the Conditions section, a `Ref` may name parameters only (`conditions-section-structure`). */
  inConditions: boolean;
  problems: string[];
}

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The function name of an intrinsic function (`{ Ref: ... }`, `{ "Fn::X": ... }`), else undefined. */
function intrinsicName(value: Json): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const [key] = keys as [string];
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

const isNoValue = (value: Json): boolean => intrinsicName(value) === 'Ref' && value.Ref === 'AWS::NoValue';

/** A short rendering of a value for a message. */
function show(value: Json): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Whether a property is there: `{ Ref: AWS::NoValue }` removes it (`pseudo-parameter-reference`),
 * so an `Fn::If` with an AWS::NoValue branch may leave it out; only a value absent in every
 * branch is definitely absent.
 */
function presence(value: Json): 'absent' | 'maybe' | 'present' {
  if (value === undefined || isNoValue(value)) return 'absent';
  if (intrinsicName(value) === 'Fn::If' && Array.isArray(value['Fn::If']) && value['Fn::If'].length === 3) {
    const branches = [presence(value['Fn::If'][1]), presence(value['Fn::If'][2])];
    if (branches.every((b) => b === 'absent')) return 'absent';
    if (branches.every((b) => b === 'present')) return 'present';
    return 'maybe';
  }
  return 'present';
}

/**
 * Validates a template against the specification; returns every problem found, none when the
 * template is valid. `template` is the parsed JSON of a template.
 */
export function validateTemplate(template: unknown, spec: CfnSpecification): string[] {
  if (!isObject(template)) return [`template: expected a JSON object, got ${show(template)}`];
  const ctx: Context = {
    spec,
    resources: isObject(template.Resources) ? template.Resources : {},
    parameters: isObject(template.Parameters) ? template.Parameters : {},
    conditions: isObject(template.Conditions) ? template.Conditions : {},
    mappings: isObject(template.Mappings) ? template.Mappings : {},
    inConditions: false,
    problems: [],
  };
  const problem = (path: string, message: string): void => {
    ctx.problems.push(`${path}: ${message}`);
  };

  for (const key of Object.keys(template)) {
    if (!(TEMPLATE_SECTIONS as readonly string[]).includes(key)) {
      problem(key, `unknown top-level section (known: ${TEMPLATE_SECTIONS.join(', ')})`);
    }
  }
  if (template.AWSTemplateFormatVersion !== undefined && template.AWSTemplateFormatVersion !== FORMAT_VERSION) {
    problem('AWSTemplateFormatVersion', `expected "${FORMAT_VERSION}", got ${show(template.AWSTemplateFormatVersion)}`);
  }
  // The description is a literal string (`template-description-structure`).
  if (template.Description !== undefined && typeof template.Description !== 'string') {
    problem('Description', `expected a literal string, got ${show(template.Description)}`);
  }
  for (const section of ['Metadata', 'Parameters', 'Mappings', 'Conditions', 'Outputs', 'Rules']) {
    if (template[section] !== undefined && !isObject(template[section])) {
      problem(section, `expected an object, got ${show(template[section])}`);
    }
  }

  // Parameters: each declares its Type (`parameters-section-structure`).
  for (const [name, parameter] of Object.entries(ctx.parameters)) {
    if (!LOGICAL_ID.test(name)) problem(`Parameters.${name}`, 'a logical id must be alphanumeric');
    if (!isObject(parameter) || typeof parameter.Type !== 'string') {
      problem(`Parameters.${name}`, 'a parameter needs a Type');
    } else {
      ctx.problems.push(...parameterProblems(name, parameter));
    }
  }

  ctx.inConditions = true;
  for (const [name, expression] of Object.entries(ctx.conditions)) {
    checkCondition(ctx, expression, `Conditions.${name}`);
  }
  ctx.inConditions = false;

  // Resources: required, at least one (`resources-section-structure`).
  if (!isObject(template.Resources) || Object.keys(template.Resources).length === 0) {
    problem('Resources', 'a template needs at least one resource');
  }
  for (const [logicalId, resource] of Object.entries(ctx.resources)) {
    checkResource(ctx, logicalId, resource);
  }

  if (isObject(template.Outputs)) {
    for (const [name, output] of Object.entries(template.Outputs)) checkOutput(ctx, name, output);
  }
  return ctx.problems;
}

/** The keys of a parameter (`parameters-section-structure`). */
const PARAMETER_KEYS = [
  'Type',
  'Default',
  'AllowedPattern',
  'AllowedValues',
  'ConstraintDescription',
  'Description',
  'MaxLength',
  'MaxValue',
  'MinLength',
  'MinValue',
  'NoEcho',
];

/**
 * Parameter types (`parameters-section-structure`): String, Number, List<Number>,
 * CommaDelimitedList, the AWS-specific types (AWS::EC2::VPC::Id, List<AWS::EC2::Subnet::Id>, ...)
 * and the Systems Manager parameter types (AWS::SSM::Parameter::Name, AWS::SSM::Parameter::Value<...>).
 */
const PARAMETER_TYPE = /^(String|Number|List<Number>|CommaDelimitedList|(List<)?AWS::[A-Za-z0-9]+::[A-Za-z0-9]+(::[A-Za-z0-9]+)?>?|AWS::SSM::Parameter::(Name|Value<.+>))$/;

/**
 * A parameter's declaration and its Default against its own constraints
 * (`parameters-section-structure`): a stack created without the parameter gets the Default, which
 * CloudFormation checks like a given value (AllowedValues, AllowedPattern on the whole value,
 * MinValue/MaxValue for a Number, MinLength/MaxLength for a String).
 */
export function parameterProblems(name: string, parameter: Record<string, Json>): string[] {
  const problems: string[] = [];
  const at = `Parameters.${name}`;
  const type = String(parameter.Type);
  for (const key of Object.keys(parameter)) {
    if (!PARAMETER_KEYS.includes(key)) problems.push(`${at}.${key}: unknown parameter key (known: ${PARAMETER_KEYS.join(', ')})`);
  }
  if (!PARAMETER_TYPE.test(type)) problems.push(`${at}.Type: ${type} is not a parameter type`);
  const value: Json = parameter.Default;
  if (value === undefined) return problems;
  if (typeof value !== 'string' && typeof value !== 'number') {
    problems.push(`${at}.Default: expected a literal string or number, got ${show(value)}`);
    return problems;
  }
  const text = String(value);
  if (Array.isArray(parameter.AllowedValues) && !parameter.AllowedValues.map(String).includes(text)) {
    problems.push(`${at}.Default: ${show(value)} is not one of its AllowedValues (${parameter.AllowedValues.map(String).join(', ')})`);
  }
  if (typeof parameter.AllowedPattern === 'string' && !new RegExp(`^(?:${parameter.AllowedPattern})$`).test(text)) {
    problems.push(`${at}.Default: ${show(value)} does not match its AllowedPattern ${parameter.AllowedPattern}`);
  }
  if (type === 'Number') {
    const number = Number(text);
    if (text.trim() === '' || !Number.isFinite(number)) problems.push(`${at}.Default: ${show(value)} is not a number`);
    else {
      if (typeof parameter.MinValue === 'number' && number < parameter.MinValue) problems.push(`${at}.Default: ${text} is below its MinValue ${parameter.MinValue}`);
      if (typeof parameter.MaxValue === 'number' && number > parameter.MaxValue) problems.push(`${at}.Default: ${text} is above its MaxValue ${parameter.MaxValue}`);
    }
  }
  if (type === 'String') {
    if (typeof parameter.MinLength === 'number' && text.length < parameter.MinLength) problems.push(`${at}.Default: ${show(value)} is shorter than its MinLength ${parameter.MinLength}`);
    if (typeof parameter.MaxLength === 'number' && text.length > parameter.MaxLength) problems.push(`${at}.Default: ${show(value)} is longer than its MaxLength ${parameter.MaxLength}`);
  }
  return problems;
}

function checkResource(ctx: Context, logicalId: string, resource: Json): void {
  const path = `Resources.${logicalId}`;
  const problem = (at: string, message: string): void => {
    ctx.problems.push(`${at}: ${message}`);
  };
  if (!LOGICAL_ID.test(logicalId)) problem(path, 'a logical id must be alphanumeric (A-Za-z0-9)');
  if (!isObject(resource)) {
    problem(path, `expected a resource object, got ${show(resource)}`);
    return;
  }
  for (const key of Object.keys(resource)) {
    if (!RESOURCE_KEYS.includes(key)) problem(`${path}.${key}`, `unknown resource key (known: ${RESOURCE_KEYS.join(', ')})`);
  }

  // Condition and DependsOn (`aws-attribute-condition`, `aws-attribute-dependson`).
  if (resource.Condition !== undefined) checkConditionName(ctx, resource.Condition, `${path}.Condition`);
  if (resource.DependsOn !== undefined) {
    const dependsOn: Json[] = Array.isArray(resource.DependsOn) ? resource.DependsOn : [resource.DependsOn];
    dependsOn.forEach((name, i) => {
      const at = Array.isArray(resource.DependsOn) ? `${path}.DependsOn[${i}]` : `${path}.DependsOn`;
      if (typeof name !== 'string') problem(at, `expected a resource's logical id, got ${show(name)}`);
      else if (name === logicalId) problem(at, 'a resource cannot depend on itself');
      else if (!(name in ctx.resources)) problem(at, `${name} is not a resource of the template`);
    });
  }

  const type: Json = resource.Type;
  checkPolicy(ctx, resource.DeletionPolicy, type, `${path}.DeletionPolicy`, DELETION_POLICIES);
  checkPolicy(ctx, resource.UpdateReplacePolicy, type, `${path}.UpdateReplacePolicy`, UPDATE_REPLACE_POLICIES);

  if (typeof type !== 'string') {
    problem(`${path}.Type`, `expected a resource type, got ${show(type)}`);
    return;
  }
  const properties: Json = resource.Properties ?? {};
  if (!isObject(properties)) {
    problem(`${path}.Properties`, `expected an object, got ${show(properties)}`);
    return;
  }
  // A custom resource (`aws-resource-cloudformation-customresource`): any properties, but a
  // ServiceToken. Its type is not in the specification.
  if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') {
    if (presence(properties.ServiceToken) === 'absent') {
      problem(`${path}.Properties.ServiceToken`, `required property of ${type} is missing`);
    }
    for (const [name, value] of Object.entries(properties)) checkAny(ctx, value, `${path}.Properties.${name}`);
    return;
  }
  const resourceSpec = ctx.spec.ResourceTypes[type];
  if (!resourceSpec) {
    problem(`${path}.Type`, `unknown resource type ${type} (not in the CloudFormation resource specification)`);
    return;
  }
  checkProperties(ctx, properties, (resourceSpec.Properties ?? {}) as Record<string, SpecProperty>, type, type, `${path}.Properties`);
}

/**
 * DeletionPolicy / UpdateReplacePolicy: one of the documented values, as a literal string (an
 * intrinsic function here needs the AWS::LanguageExtensions transform), and Snapshot only for
 * the types that support it.
 */
function checkPolicy(ctx: Context, value: Json, type: Json, path: string, allowed: readonly string[]): void {
  if (value === undefined) return;
  const attribute = path.slice(path.lastIndexOf('.') + 1);
  if (typeof value !== 'string' || !allowed.includes(value)) {
    ctx.problems.push(`${path}: ${show(value)} is not a valid ${attribute} (${allowed.join(', ')})`);
  } else if (value === 'Snapshot' && !(SNAPSHOT_TYPES as readonly string[]).includes(type)) {
    ctx.problems.push(`${path}: Snapshot is not supported by ${String(type)} (only ${SNAPSHOT_TYPES.join(', ')})`);
  }
}

function checkOutput(ctx: Context, name: string, output: Json): void {
  const path = `Outputs.${name}`;
  const problem = (at: string, message: string): void => {
    ctx.problems.push(`${at}: ${message}`);
  };
  if (!LOGICAL_ID.test(name)) problem(path, 'a logical id must be alphanumeric (A-Za-z0-9)');
  if (!isObject(output)) {
    problem(path, `expected an output object, got ${show(output)}`);
    return;
  }
  for (const key of Object.keys(output)) {
    if (!OUTPUT_KEYS.includes(key)) problem(`${path}.${key}`, `unknown output key (known: ${OUTPUT_KEYS.join(', ')})`);
  }
  if (output.Condition !== undefined) checkConditionName(ctx, output.Condition, `${path}.Condition`);
  if (output.Description !== undefined && typeof output.Description !== 'string') {
    problem(`${path}.Description`, `expected a literal string, got ${show(output.Description)}`);
  }
  // An output's value and export name are strings (`outputs-section-structure`).
  const string: Shape = { kind: 'primitive', primitive: 'String' };
  if (presence(output.Value) === 'absent') problem(`${path}.Value`, 'an output needs a Value');
  else checkValue(ctx, output.Value, string, '', `${path}.Value`);
  if (output.Export !== undefined) {
    if (!isObject(output.Export) || output.Export.Name === undefined) problem(`${path}.Export`, 'an export needs a Name');
    else checkValue(ctx, output.Export.Name, string, '', `${path}.Export.Name`);
  }
}

/**
 * The properties of a resource or of a property type (an object): each one known to the
 * specification and of its shape, and each Required one present.
 */
function checkProperties(
  ctx: Context,
  value: Record<string, Json>,
  specs: Record<string, SpecProperty>,
  owner: string,
  resourceType: string,
  path: string,
): void {
  for (const [name, propertyValue] of Object.entries(value)) {
    const propertySpec = specs[name];
    if (!propertySpec) {
      ctx.problems.push(`${path}.${name}: unknown property of ${owner}`);
      // Its references are still checked: a typo'd name must not hide a dangling Ref.
      checkAny(ctx, propertyValue, `${path}.${name}`);
      continue;
    }
    checkValue(ctx, propertyValue, shapeOf(propertySpec), resourceType, `${path}.${name}`);
  }
  for (const [name, propertySpec] of Object.entries(specs)) {
    if (propertySpec.Required && presence(value[name]) === 'absent') {
      ctx.problems.push(`${path}.${name}: required property of ${owner} is missing`);
    }
  }
}

/** A specification property as a Shape (`cfn-resource-specification-format`). */
function shapeOf(property: SpecProperty): Shape {
  const primitive = (p: string): Shape => ({ kind: 'primitive', primitive: p });
  const object = (t: string): Shape => ({ kind: 'object', type: t });
  const oneOf = (options: Shape[]): Shape => (options.length === 1 ? options[0]! : { kind: 'union', options });

  const inclusive = [
    ...(property.InclusivePrimitiveItemTypes ?? []).map(primitive),
    ...(property.InclusiveItemTypes ?? []).map(object),
  ];
  const union = [
    ...(property.PrimitiveTypes ?? []).map(primitive),
    ...(property.Types ?? []).map(object),
    ...(property.PrimitiveItemTypes ?? []).map((p) => ({ kind: 'list', item: primitive(p) }) as Shape),
    ...(property.ItemTypes ?? []).map((t) => ({ kind: 'list', item: object(t) }) as Shape),
    ...(inclusive.length > 0 ? [{ kind: 'list', item: oneOf(inclusive) } as Shape] : []),
  ];
  if (union.length > 0) return oneOf(union);

  const item = (): Shape => {
    if (property.PrimitiveItemType) return primitive(property.PrimitiveItemType);
    // A map of lists of primitives: ItemType 'List' with PrimitiveItemItemType.
    if (property.ItemType === 'List' && property.PrimitiveItemItemType) {
      return { kind: 'list', item: primitive(property.PrimitiveItemItemType) };
    }
    return property.ItemType ? object(property.ItemType) : { kind: 'any' };
  };
  if (property.Type === 'List') return { kind: 'list', item: item() };
  if (property.Type === 'Map') return { kind: 'map', item: item() };
  if (property.PrimitiveType) return primitive(property.PrimitiveType);
  if (property.Type) return object(property.Type);
  return { kind: 'any' };
}

/** A shape for a message: `String`, `List of AWS::IAM::Role.Policy`, ... */
function describe(shape: Shape, resourceType: string): string {
  switch (shape.kind) {
    case 'primitive':
      return shape.primitive;
    case 'object':
      return `${resourceType ? `${resourceType}.` : ''}${shape.type}`;
    case 'list':
      return `List of ${describe(shape.item, resourceType)}`;
    case 'map':
      return `Map of ${describe(shape.item, resourceType)}`;
    case 'union':
      return shape.options.map((o) => describe(o, resourceType)).join(' | ');
    case 'any':
      return 'any value';
  }
}

/**
 * A named property type: `<resource type>.<name>`, or a type shared by every resource (`Tag`).
 * Most are objects with Properties; a few are another property's shape (a List, a primitive).
 */
function propertyType(ctx: Context, resourceType: string, name: string): { name: string; spec: SpecProperty } | undefined {
  const qualified = `${resourceType}.${name}`;
  const found = ctx.spec.PropertyTypes[qualified] ?? ctx.spec.PropertyTypes[name];
  if (!found) return undefined;
  return { name: ctx.spec.PropertyTypes[qualified] ? qualified : name, spec: found as SpecProperty };
}

/**
 * Checks a value against its expected shape. An intrinsic function is accepted in place of any
 * value (`intrinsic-function-reference`); it is checked itself, and what it returns (a single
 * value or a list) against the shape. The branches of an `Fn::If` are checked as the value
 * would be; an `AWS::NoValue` branch leaves the property (or list element) out.
 */
function checkValue(ctx: Context, value: Json, shape: Shape, resourceType: string, path: string): void {
  const problem = (message: string): void => {
    ctx.problems.push(`${path}: ${message}`);
  };
  const fn = intrinsicName(value);
  if (fn === 'Fn::If') {
    const args = checkFnIfArgs(ctx, value, path);
    if (!args) return;
    [1, 2].forEach((i) => {
      if (!isNoValue(args[i])) checkValue(ctx, args[i], shape, resourceType, `${path}.Fn::If[${i}]`);
    });
    return;
  }
  if (fn !== undefined) {
    if (isNoValue(value)) return;
    checkIntrinsic(ctx, value, path);
    const produces = intrinsicProduces(ctx, value);
    if (produces !== 'unknown' && !accepts(ctx, shape, produces, resourceType)) {
      problem(
        `expected ${describe(shape, resourceType)}, got ${fn}, which returns ${produces === 'list' ? 'a list' : 'a single value'}`,
      );
    }
    return;
  }

  switch (shape.kind) {
    case 'any':
      checkAny(ctx, value, path);
      return;
    case 'primitive':
      checkPrimitive(ctx, value, shape.primitive, path);
      return;
    case 'list':
      if (!Array.isArray(value)) {
        problem(`expected ${describe(shape, resourceType)}, got ${show(value)}`);
        return;
      }
      value.forEach((item, i) => checkValue(ctx, item, shape.item, resourceType, `${path}[${i}]`));
      return;
    case 'map':
      if (!isObject(value)) {
        problem(`expected ${describe(shape, resourceType)}, got ${show(value)}`);
        return;
      }
      for (const [key, item] of Object.entries(value)) checkValue(ctx, item, shape.item, resourceType, `${path}.${key}`);
      return;
    case 'object': {
      const found = propertyType(ctx, resourceType, shape.type);
      if (!found) {
        problem(`property type ${resourceType}.${shape.type} is not in the specification`);
        checkAny(ctx, value, path);
        return;
      }
      if (!found.spec.Properties) {
        // A property type that is another shape (a List of items, a primitive).
        checkValue(ctx, value, shapeOf(found.spec), resourceType, path);
        return;
      }
      if (!isObject(value)) {
        problem(`expected a ${found.name} object, got ${show(value)}`);
        return;
      }
      checkProperties(ctx, value, found.spec.Properties, found.name, resourceType, path);
      return;
    }
    case 'union': {
      // Valid if it is valid as any one of the options.
      const saved = ctx.problems;
      const attempts = shape.options.map((option) => {
        ctx.problems = [];
        checkValue(ctx, value, option, resourceType, path);
        return ctx.problems;
      });
      ctx.problems = saved;
      if (attempts.every((attempt) => attempt.length > 0)) {
        problem(`expected ${describe(shape, resourceType)}, got ${show(value)}`);
      }
      return;
    }
  }
}

/** Whether a value of this shape may be the result of an intrinsic function that returns `produces`. */
function accepts(ctx: Context, shape: Shape, produces: Exclude<Produces, 'unknown'>, resourceType: string): boolean {
  switch (shape.kind) {
    case 'any':
      return true;
    case 'primitive':
      // A Json value can be anything; the other primitives are single values.
      return shape.primitive === 'Json' || produces === 'single';
    case 'list':
      return produces === 'list';
    case 'map':
      return false;
    case 'object': {
      const found = propertyType(ctx, resourceType, shape.type);
      // An object property type cannot be a string or a list; an aliased shape decides itself.
      return found !== undefined && !found.spec.Properties ? accepts(ctx, shapeOf(found.spec), produces, resourceType) : false;
    }
    case 'union':
      return shape.options.some((option) => accepts(ctx, option, produces, resourceType));
  }
}

/**
 * A primitive value (the PrimitiveTypes of `cfn-resource-specification-format`). CloudFormation
 * converts a scalar it can: a number or boolean where a String goes, a numeric string for an
 * Integer, Long or Double, "true"/"false" for a Boolean; cfn-lint's type rule (E3012) accepts
 * the same in its default, non-strict mode. A Json value is an object or a string holding JSON;
 * CloudFormation resolves the intrinsic functions inside it, so they are checked too.
 */
function checkPrimitive(ctx: Context, value: Json, primitive: string, path: string): void {
  const wrong = (): void => {
    ctx.problems.push(`${path}: expected ${primitive}, got ${show(value)}`);
  };
  switch (primitive) {
    case 'String':
      if (!['string', 'number', 'boolean'].includes(typeof value)) wrong();
      return;
    case 'Integer':
    case 'Long':
      if (!(Number.isInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value)))) wrong();
      return;
    case 'Double':
      if (
        !(
          (typeof value === 'number' && Number.isFinite(value)) ||
          (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        )
      ) {
        wrong();
      }
      return;
    case 'Boolean':
      if (!(typeof value === 'boolean' || value === 'true' || value === 'false')) wrong();
      return;
    case 'Timestamp':
      if (typeof value !== 'string') wrong();
      return;
    case 'Json':
      if (!isObject(value) && typeof value !== 'string') wrong();
      else checkAny(ctx, value, path);
      return;
    default:
      ctx.problems.push(`${path}: unknown primitive type ${primitive} in the specification`);
  }
}

/**
 * Checks every intrinsic function anywhere inside a value whose shape is not known (a Json
 * document, an intrinsic function's arguments, a custom resource's properties).
 */
function checkAny(ctx: Context, value: Json, path: string): void {
  if (intrinsicName(value) !== undefined) {
    checkIntrinsic(ctx, value, path);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkAny(ctx, item, `${path}[${i}]`));
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) checkAny(ctx, item, `${path}.${key}`);
  }
}

/** What an intrinsic function returns: a list, a single value, or unknown until deploy time. */
function intrinsicProduces(ctx: Context, value: Json): Produces {
  const fn = intrinsicName(value);
  switch (fn) {
    case 'Ref': {
      // `pseudo-parameter-reference`: AWS::NotificationARNs is a list; a list parameter is one too.
      if (value.Ref === 'AWS::NotificationARNs') return 'list';
      const parameterType: Json = ctx.parameters[value.Ref]?.Type;
      if (typeof parameterType === 'string' && (parameterType === 'CommaDelimitedList' || parameterType.startsWith('List<'))) {
        return 'list';
      }
      return typeof value.Ref === 'string' && value.Ref !== 'AWS::NoValue' ? 'single' : 'unknown';
    }
    case 'Fn::GetAtt': {
      const args = value['Fn::GetAtt'];
      if (!Array.isArray(args) || typeof args[0] !== 'string' || typeof args[1] !== 'string') return 'unknown';
      const type: Json = ctx.resources[args[0]]?.Type;
      const attribute: Json = typeof type === 'string' ? ctx.spec.ResourceTypes[type]?.Attributes?.[args[1]] : undefined;
      if (!attribute) return 'unknown';
      if ('Type' in attribute && attribute.Type === 'List') return 'list';
      if ('PrimitiveType' in attribute && attribute.PrimitiveType !== 'Json') return 'single';
      return 'unknown';
    }
    case 'Fn::Sub':
    case 'Fn::Join':
    case 'Fn::Base64':
    case 'Fn::ImportValue':
      return 'single';
    case 'Fn::Split':
    case 'Fn::GetAZs':
    case 'Fn::Cidr':
      return 'list';
    default:
      // Fn::Select and Fn::FindInMap return whatever is selected; Fn::If whichever branch.
      return 'unknown';
  }
}

/** Whether a name is a resource, a parameter or a pseudo parameter that a Ref may name. */
function refProblem(ctx: Context, name: string): string | undefined {
  if ((PSEUDO_PARAMETERS as readonly string[]).includes(name) || name in ctx.parameters) return undefined;
  if (name in ctx.resources) {
    return ctx.inConditions ? `${name} is a resource; a condition may refer to parameters only` : undefined;
  }
  return `${name} names no resource, parameter or pseudo parameter of the template`;
}

/** The attribute problem of `Fn::GetAtt [resource, attribute]`, if any (the specification's Attributes). */
function getAttProblem(ctx: Context, logicalId: string, attribute: string | undefined): string | undefined {
  if (ctx.inConditions) return `Fn::GetAtt is not allowed in a condition (parameters and mappings only)`;
  const resource = ctx.resources[logicalId];
  if (resource === undefined) return `${logicalId} is not a resource of the template`;
  if (attribute === undefined) return undefined;
  const type: Json = resource?.Type;
  if (typeof type !== 'string') return undefined;
  // Custom resources return whatever their provider sends; a nested stack its Outputs.
  if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') return undefined;
  if (type === 'AWS::CloudFormation::Stack' && attribute.startsWith('Outputs.')) return undefined;
  const resourceSpec = ctx.spec.ResourceTypes[type];
  if (!resourceSpec) return undefined; // its Type is reported already
  const attributes = Object.keys(resourceSpec.Attributes ?? {});
  if (attributes.includes(attribute)) return undefined;
  return `${type} ${logicalId} has no attribute ${attribute} (${attributes.length > 0 ? `it has ${attributes.join(', ')}` : 'it has none'})`;
}

/** The `[condition, ifTrue, ifFalse]` of an Fn::If, the condition checked; undefined when malformed. */
function checkFnIfArgs(ctx: Context, value: Json, path: string): [string, Json, Json] | undefined {
  const args = value['Fn::If'];
  if (!Array.isArray(args) || args.length !== 3 || typeof args[0] !== 'string') {
    ctx.problems.push(`${path}.Fn::If: expected [condition name, value if true, value if false], got ${show(args)}`);
    return undefined;
  }
  if (ctx.inConditions) {
    ctx.problems.push(`${path}.Fn::If: not allowed in the Conditions section`);
  }
  checkConditionName(ctx, args[0], `${path}.Fn::If[0]`);
  return args as [string, Json, Json];
}

/** A condition name (a resource's Condition, an Fn::If's first argument, `{ Condition: name }`). */
function checkConditionName(ctx: Context, name: Json, path: string): void {
  if (typeof name !== 'string') ctx.problems.push(`${path}: expected a condition name, got ${show(name)}`);
  else if (!(name in ctx.conditions)) ctx.problems.push(`${path}: ${name} is not a condition of the template`);
}

/**
 * The `${Name}` and `${Name.Attribute}` placeholders of an Fn::Sub string (`-sub`): a name of the
 * variable map, or a resource, parameter or pseudo parameter (as Ref), or a resource's attribute
 * (as Fn::GetAtt). `${!Literal}` is a literal `${Literal}`.
 */
function checkSubString(ctx: Context, text: string, variables: Record<string, Json>, path: string): void {
  for (const match of text.matchAll(/\$\{([^}]*)\}/g)) {
    const name = match[1]!;
    if (name.startsWith('!') || name in variables) continue;
    const dot = name.indexOf('.');
    const found =
      dot < 0 ? refProblem(ctx, name) : getAttProblem(ctx, name.slice(0, dot), name.slice(dot + 1));
    if (found) ctx.problems.push(`${path}: \${${name}}: ${found}`);
  }
}

/**
 * Checks an intrinsic function's arguments and the names it refers to, recursively
 * (`intrinsic-function-reference` and each function's page for its declaration).
 */
function checkIntrinsic(ctx: Context, value: Json, path: string): void {
  const fn = intrinsicName(value)!;
  const args: Json = value[fn];
  const at = `${path}.${fn}`;
  const problem = (message: string): void => {
    ctx.problems.push(`${at}: ${message}`);
  };
  const malformed = (declaration: string) => problem(`expected ${declaration}, got ${show(args)}`);

  if (!VALUE_FUNCTIONS.includes(fn)) {
    problem(
      CONDITION_FUNCTIONS.includes(fn)
        ? 'a condition function, valid in the Conditions section only'
        : `unknown intrinsic function (known: ${VALUE_FUNCTIONS.join(', ')})`,
    );
    return;
  }
  switch (fn) {
    case 'Ref': {
      if (typeof args !== 'string') return malformed('a logical id or pseudo parameter name');
      const found = refProblem(ctx, args);
      if (found) problem(found);
      return;
    }
    case 'Fn::GetAtt': {
      // The attribute name may be a Ref to a parameter (`-getatt`).
      if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
        return malformed('[logical id, attribute name]');
      }
      if (typeof args[1] !== 'string') {
        if (intrinsicName(args[1]) !== 'Ref') return malformed('[logical id, attribute name or Ref]');
        checkIntrinsic(ctx, args[1], `${at}[1]`);
      }
      const found = getAttProblem(ctx, args[0], typeof args[1] === 'string' ? args[1] : undefined);
      if (found) problem(found);
      return;
    }
    case 'Fn::Sub': {
      if (typeof args === 'string') return checkSubString(ctx, args, {}, at);
      if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string' || !isObject(args[1])) {
        return malformed('a string or [string, { variable: value }]');
      }
      for (const [name, variable] of Object.entries(args[1])) checkAny(ctx, variable, `${at}[1].${name}`);
      return checkSubString(ctx, args[0], args[1], `${at}[0]`);
    }
    case 'Fn::Join': {
      if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
        return malformed('[delimiter, list of values]');
      }
      if (!Array.isArray(args[1])) {
        if (intrinsicName(args[1]) === undefined) return malformed('[delimiter, list of values]');
        if (intrinsicProduces(ctx, args[1]) === 'single') problem(`the values to join are a single value, not a list`);
      }
      return checkAny(ctx, args[1], `${at}[1]`);
    }
    case 'Fn::If': {
      const branches = checkFnIfArgs(ctx, value, path);
      if (branches) [1, 2].forEach((i) => checkAny(ctx, branches[i], `${at}[${i}]`));
      return;
    }
    case 'Fn::Split': {
      if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
        return malformed('[delimiter, source string]');
      }
      if (intrinsicProduces(ctx, args[1]) === 'list' || Array.isArray(args[1]) || (isObject(args[1]) && !intrinsicName(args[1]))) {
        problem('the source must be a string');
      }
      return checkAny(ctx, args[1], `${at}[1]`);
    }
    case 'Fn::Select': {
      if (!Array.isArray(args) || args.length !== 2) return malformed('[index, list of values]');
      const [index, list] = args;
      const literalIndex = Number.isInteger(index) || (typeof index === 'string' && /^\d+$/.test(index));
      if (!literalIndex && intrinsicName(index) === undefined) problem(`the index must be an integer, got ${show(index)}`);
      if (!Array.isArray(list) && intrinsicName(list) === undefined) problem(`expected a list to select from, got ${show(list)}`);
      if (Array.isArray(list) && literalIndex && Number(index) >= list.length) {
        problem(`index ${Number(index)} is past the end of a list of ${list.length}`);
      }
      return checkAny(ctx, args, at);
    }
    case 'Fn::GetAZs':
      if (typeof args !== 'string' && intrinsicName(args) !== 'Ref') return malformed('a region name, "" or a Ref');
      return checkAny(ctx, args, at);
    case 'Fn::ImportValue':
      if (typeof args !== 'string' && intrinsicName(args) === undefined) return malformed('an export name');
      return checkAny(ctx, args, at);
    case 'Fn::Base64':
      return checkAny(ctx, args, at);
    case 'Fn::Cidr':
      if (!Array.isArray(args) || args.length !== 3) return malformed('[ipBlock, count, cidrBits]');
      return checkAny(ctx, args, at);
    case 'Fn::FindInMap': {
      if (!Array.isArray(args) || args.length !== 3) return malformed('[map name, top-level key, second-level key]');
      const [mapName, topKey, secondKey] = args;
      if (typeof mapName === 'string') {
        const map = ctx.mappings[mapName];
        if (map === undefined) problem(`${mapName} is not a mapping of the template`);
        else if (typeof topKey === 'string' && isObject(map)) {
          const top = map[topKey];
          if (top === undefined) problem(`mapping ${mapName} has no key ${topKey}`);
          else if (typeof secondKey === 'string' && isObject(top) && top[secondKey] === undefined) {
            problem(`mapping ${mapName}.${topKey} has no key ${secondKey}`);
          }
        }
      }
      return checkAny(ctx, args, at);
    }
  }
}

/**
 * A condition definition (`conditions-section-structure`, `intrinsic-function-reference-conditions`):
 * Fn::And / Fn::Or of 2 to 10 conditions, Fn::Not of one, Fn::Equals of two values, or
 * `{ Condition: name }` of another condition. Values may use Ref (to parameters), Fn::FindInMap
 * and the other value functions.
 */
function checkCondition(ctx: Context, expression: Json, path: string): void {
  const fn = isObject(expression) && Object.keys(expression).length === 1 ? Object.keys(expression)[0]! : undefined;
  const problem = (message: string): void => {
    ctx.problems.push(`${path}: ${message}`);
  };
  if (fn === undefined || !CONDITION_FUNCTIONS.includes(fn)) {
    problem(`expected a condition function (${CONDITION_FUNCTIONS.join(', ')}), got ${show(expression)}`);
    return;
  }
  const args: Json = expression[fn];
  const at = `${path}.${fn}`;
  switch (fn) {
    case 'Fn::And':
    case 'Fn::Or':
      if (!Array.isArray(args) || args.length < 2 || args.length > 10) {
        ctx.problems.push(`${at}: expected a list of 2 to 10 conditions, got ${show(args)}`);
        return;
      }
      args.forEach((condition, i) => checkCondition(ctx, condition, `${at}[${i}]`));
      return;
    case 'Fn::Not':
      if (!Array.isArray(args) || args.length !== 1) {
        ctx.problems.push(`${at}: expected a list of one condition, got ${show(args)}`);
        return;
      }
      checkCondition(ctx, args[0], `${at}[0]`);
      return;
    case 'Fn::Equals':
      if (!Array.isArray(args) || args.length !== 2) {
        ctx.problems.push(`${at}: expected [value, value], got ${show(args)}`);
        return;
      }
      args.forEach((operand, i) => checkAny(ctx, operand, `${at}[${i}]`));
      return;
    case 'Condition':
      checkConditionName(ctx, args, at);
      return;
  }
}
