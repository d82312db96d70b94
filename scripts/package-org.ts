/**
 * `npm run package:org`: the stack as a CloudFormation StackSet template (docs/organisation.md).
 *
 *   npm run package:org -- [--stage prod] [--param k=v ...] [--bucket-prefix my-org-eks-ip-responder]
 *                          [--key-prefix eks-ip-responder/prod/] [--out .serverless-org]
 *
 * Packages twice with osls (stack/org.ts): with a sentinel per deploy-time param and with the
 * values; the first, rewritten and its Parameters at those values, must equal the second, and both
 * zips must be the same bytes. Writes <out>/template.json, parameters.json, code/<fn>-<sha>.zip.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { deployTimeParams, packagingTimeParams, parameterisationProblems, SENTINEL_REGION, toStackSet, type OrgParam } from '../stack/org';

const ROOT = path.join(__dirname, '..');

/**
 * The regions of the two packagings: real ones (osls accepts only its list), different, so that
 * the comparison proves the region is only ever the region.
 */
export { SENTINEL_REGION };
export const VALUES_REGION = 'il-central-1';

export interface OrgPackageOptions {
  /** `--stage`: fixed at packaging (resource names, the stage's params). */
  stage: string;
  /** `--param k=v`: a packaging-time param's value, or a deploy-time param's default. */
  params: Readonly<Record<string, string>>;
  bucketPrefix: string;
  keyPrefix: string;
  out: string;
  /** The repository to package (tests use this one). */
  root?: string;
}

export interface OrgPackage {
  template: Record<string, unknown>;
  templatePath: string;
  /** The zips, as published: key (under the key prefix) -> local path. */
  code: Record<string, string>;
  deployTime: OrgParam[];
  packagingTime: Record<string, { value: unknown; reason: string }>;
  /** The stack packaged with the values (for tests: the template a `serverless package` gives). */
  packagedWithValues: Record<string, unknown>;
}

/**
 * The stage params as osls resolves them (osls lib/configuration/variables/sources/instance-dependent/param.js):
 * a `--param` first, then `params.<stage>`, then `params.default`.
 */
export function resolveStageParams(root: string, stage: string, cli: Readonly<Record<string, string>>): Record<string, unknown> {
  // The file's CloudFormation tags (!Ref, !GetAtt) are not in `params`; they parse as plain values.
  const config = parseYaml(readFileSync(path.join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    params?: Record<string, Record<string, unknown> | null>;
  };
  const resolved: Record<string, unknown> = { ...(config.params?.['default'] ?? {}), ...(config.params?.[stage] ?? {}) };
  for (const [name, value] of Object.entries(cli)) {
    if (!(name in resolved)) throw new Error(`--param ${name}: serverless.yml has no such param (params.default)`);
    resolved[name] = value;
  }
  return resolved;
}

/**
 * `serverless package` in a service directory of its own under `work` (osls deletes
 * `<service directory>/.serverless`: run at the root, it would delete `npm run package`'s).
 */
function packageService(root: string, work: string, stage: string, region: string, params: Record<string, string | number>, hint = ''): string {
  const serviceDir = path.join(work, region);
  rmSync(serviceDir, { recursive: true, force: true });
  mkdirSync(serviceDir, { recursive: true });
  const skip = new Set(['.serverless', '.serverless-org', '.esbuild', '.git', 'serverless.yml', 'coverage']);
  for (const entry of readdirSync(root)) {
    if (skip.has(entry) || path.resolve(root, entry) === path.resolve(work, '..')) continue;
    symlinkSync(path.join(root, entry), path.join(serviceDir, entry));
  }
  copyFileSync(path.join(root, 'serverless.yml'), path.join(serviceDir, 'serverless.yml'));
  const packageDir = path.join(serviceDir, 'package');
  const args = ['serverless', 'package', '--stage', stage, '--region', region, '--package', packageDir];
  for (const [name, value] of Object.entries(params)) args.push('--param', `${name}=${value}`);
  try {
    execFileSync('npx', args, { cwd: serviceDir, stdio: 'pipe', encoding: 'utf8', timeout: 300_000 });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`npx ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}${hint}`);
  }
  return packageDir;
}

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** Packages the StackSet template and its code (see the module header). */
export function packageOrg(options: OrgPackageOptions): OrgPackage {
  const root = options.root ?? ROOT;
  const resolved = resolveStageParams(root, options.stage, options.params);
  const fixed = packagingTimeParams(resolved);
  const deployTime = deployTimeParams(resolved);
  const packagingTime = Object.fromEntries(Object.entries(fixed).map(([name, reason]) => [name, { value: resolved[name], reason }]));

  // Only the params given on the command line are passed: the others resolve in serverless.yml,
  // as a plain `serverless package` resolves them (osls's CLI takes no empty value).
  const given = (names: string[]): Record<string, string> =>
    Object.fromEntries(Object.entries(options.params).filter(([name]) => names.includes(name)));
  const work = path.join(options.out, '.build');
  mkdirSync(options.out, { recursive: true });
  const sentinelDir = packageService(root, work, options.stage, SENTINEL_REGION, {
    ...given(Object.keys(fixed)),
    ...Object.fromEntries(deployTime.map((p) => [p.name, p.sentinel])),
  }, '\nIf a param is checked or consumed at packaging, list it in PACKAGING_TIME_PARAMS (stack/org.ts): packaged with its sentinel here, it failed.');
  const valuesDir = packageService(root, work, options.stage, VALUES_REGION, given(Object.keys(resolved)));

  // The code: keyed by content, so that a StackSet update with new code names a new object.
  const codeDir = path.join(options.out, 'code');
  rmSync(codeDir, { recursive: true, force: true });
  mkdirSync(codeDir, { recursive: true });
  const keys: Record<string, string> = {};
  const code: Record<string, string> = {};
  const problems: string[] = [];
  for (const zip of readdirSync(sentinelDir).filter((f) => f.endsWith('.zip'))) {
    const sha = createHash('sha256').update(readFileSync(path.join(sentinelDir, zip))).digest('hex').slice(0, 12);
    const key = `${zip.replace(/\.zip$/, '')}-${sha}.zip`;
    keys[zip] = key;
    code[key] = path.join(codeDir, key);
    copyFileSync(path.join(sentinelDir, zip), code[key]!);
  }
  const location = { bucketPrefix: options.bucketPrefix, keyPrefix: options.keyPrefix, keys };

  // The code must not depend on a deploy-time param (a value compiled into the bundle would keep
  // the sentinel): the two packagings' zips are the same bytes (esbuild's output, zip entries dated 1980).
  for (const zip of Object.keys(keys)) {
    const valuesZip = path.join(valuesDir, zip);
    if (!existsSync(valuesZip) || !readFileSync(valuesZip).equals(readFileSync(path.join(sentinelDir, zip)))) {
      problems.push(`${zip} differs between the packaging with sentinels and the one with values: a param reaches the code; list it in PACKAGING_TIME_PARAMS (stack/org.ts)`);
    }
  }
  const sentinelTemplate = readJson(path.join(sentinelDir, 'cloudformation-template-update-stack.json'));
  const packagedWithValues = readJson(path.join(valuesDir, 'cloudformation-template-update-stack.json'));
  const rewritten = toStackSet(sentinelTemplate, { params: deployTime, region: SENTINEL_REGION, code: location });
  const template = rewritten.template;
  problems.push(...rewritten.problems);
  // The same rewrite of the stack packaged with the values, without params: the reference.
  const reference = toStackSet(packagedWithValues, { params: [], region: VALUES_REGION, code: location });
  problems.push(...reference.problems);
  problems.push(...parameterisationProblems(template, reference.template, deployTime));
  if (problems.length > 0) throw new Error(`package:org: ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);

  const templatePath = path.join(options.out, 'template.json');
  writeFileSync(templatePath, JSON.stringify(template));
  const parameters = Object.entries((template as { Parameters: Record<string, { Default?: unknown }> }).Parameters).map(([key, p]) => ({
    ParameterKey: key,
    ParameterValue: String(p.Default ?? ''),
  }));
  writeFileSync(path.join(options.out, 'parameters.json'), `${JSON.stringify(parameters, null, 2)}\n`);
  rmSync(work, { recursive: true, force: true });
  return { template, templatePath, code, deployTime, packagingTime, packagedWithValues };
}

/** CloudFormation's TemplateBody limit (CreateStackSet API reference): above it, --template-url. */
export const TEMPLATE_BODY_MAX_BYTES = 51_200;

/** What to run next: the publishing commands for this package. */
export function publishInstructions(pkg: OrgPackage, options: OrgPackageOptions): string {
  // Relative to the current directory when under it, else absolute.
  const shown = (file: string): string => {
    const relative = path.relative(process.cwd(), file);
    return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  };
  const out = shown(options.out);
  const size = readFileSync(pkg.templatePath).length;
  const lines = [
    `StackSet template: ${shown(pkg.templatePath)} (${size} bytes${size > TEMPLATE_BODY_MAX_BYTES ? `, above the ${TEMPLATE_BODY_MAX_BYTES} of --template-body: use --template-url` : ''})`,
    `Parameters (${pkg.deployTime.length} stage params, deploy time): ${pkg.deployTime.map((p) => p.parameter).join(', ')}`,
    `Fixed at packaging: ${Object.entries(pkg.packagingTime).map(([n, p]) => `${n}=${JSON.stringify(p.value)}`).join(', ') || 'none'}`,
    '',
    'Publish the code to the bucket of every region of the StackSet (docs/organisation.md, "Publishing the artifacts"):',
    `  for region in $REGIONS; do`,
    `    aws s3 cp ${out}/code/ "s3://${options.bucketPrefix}-$region/${options.keyPrefix}" --recursive --region "$region"`,
    `  done`,
    'with each bucket readable by the organisation (aws s3api put-bucket-policy --bucket <bucket> --policy ...):',
    `  {"Version":"2012-10-17","Statement":[{"Sid":"OrganisationReadsTheCode","Effect":"Allow","Principal":"*","Action":"s3:GetObject",` +
      `"Resource":"arn:aws:s3:::${options.bucketPrefix}-<region>/${options.keyPrefix}*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"<o-xxxxxxxxxx>"}}}]}`,
    `Code keys: ${Object.keys(pkg.code).map((k) => `${options.keyPrefix}${k}`).join(', ')}`,
    `Then: aws cloudformation create-stack-set (or update-stack-set) --template-body file://${out}/template.json ...`,
  ];
  return lines.join('\n');
}

/** The command line: `--stage`, `--param k=v` (repeatable), `--bucket-prefix`, `--key-prefix`, `--out`. */
export function parseArgs(argv: readonly string[]): OrgPackageOptions {
  const params: Record<string, string> = {};
  let stage = 'prod';
  let bucketPrefix = 'eks-ip-responder-code';
  let keyPrefix: string | undefined;
  let out = path.join(ROOT, '.serverless-org');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--stage') stage = value();
    else if (arg === '--bucket-prefix') bucketPrefix = value();
    else if (arg === '--key-prefix') keyPrefix = value();
    else if (arg === '--out') out = path.resolve(value());
    else if (arg === '--param') {
      const match = /^([^=]+)=(.+)$/.exec(value());
      if (!match) throw new Error(`--param takes name=value (a non-empty value), got ${argv[i]}`);
      params[match[1]!] = match[2]!;
    } else throw new Error(`unknown argument ${arg}`);
  }
  return { stage, params, bucketPrefix, keyPrefix: keyPrefix ?? `eks-ip-responder/${stage}/`, out };
}

if (require.main === module) {
  try {
    const options = parseArgs(process.argv.slice(2));
    if (!existsSync(path.join(ROOT, 'serverless.yml'))) throw new Error('run from the repository');
    const pkg = packageOrg(options);
    process.stdout.write(`${publishInstructions(pkg, options)}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
