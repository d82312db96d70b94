/**
 * The managed `vpc-cni` add-on's `configurationValues` document: parsed when the inventory is
 * collected (lib/inventory/collect.ts), and merged when an env key is changed
 * (lib/aws/addon.ts). Pure: text and objects in, objects out.
 *
 * Sources:
 * - [update-addon] EKS API reference, UpdateAddon,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateAddon.html: `configurationValues`
 *   is validated against DescribeAddonConfiguration's schema (JSON or YAML).
 * - DESIGN.md: "an update replaces the document, so read, merge and write it whole".
 */
// js-yaml, not `yaml` (the CLI's policy parser): 46 KB of each Lambda bundle against 115 KB.
// CORE_SCHEMA is YAML 1.2's core schema, what `yaml` parses by default; duplicate keys throw.
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { messageOf } from '../errors';

/** The add-on's configurationValues is not a JSON or YAML object: nothing may be merged into it. */
export class AddonConfigurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AddonConfigurationError';
  }
}

/**
 * Parses configurationValues. EKS accepts JSON or YAML ([update-addon]); YAML is a superset of
 * JSON, so one parser reads both. Empty or absent = `{}`.
 * @throws AddonConfigurationError when it is neither, or not an object.
 */
export function parseConfigurationValues(raw: string | undefined, cluster: string): Record<string, unknown> {
  const text = raw?.trim() ?? '';
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = loadYaml(text, { schema: CORE_SCHEMA });
  } catch (err) {
    throw new AddonConfigurationError(
      `cluster ${cluster}: the vpc-cni add-on's configurationValues is neither JSON nor YAML: ${messageOf(err)}`,
      { cause: err },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AddonConfigurationError(`cluster ${cluster}: the vpc-cni add-on's configurationValues is not an object`);
  }
  return parsed as Record<string, unknown>;
}

/** The `env` section of a configuration document (`{}` when absent). @throws AddonConfigurationError when it is not an object. */
export function envOf(values: Record<string, unknown>): Record<string, unknown> {
  const env = values['env'];
  if (env === undefined || env === null) return {};
  if (typeof env !== 'object' || Array.isArray(env)) {
    throw new AddonConfigurationError(`the vpc-cni configurationValues' env is ${Array.isArray(env) ? 'a list' : typeof env}, not an object`);
  }
  return env as Record<string, unknown>;
}

/**
 * The document with env keys set: only the keys in `set` change (as strings: the add-on's schema
 * types env values as strings); every other env key keeps its value as it was (a number stays a
 * number), and every other section (`init`, `nodeAgent`, `resources`, `tolerations`, ...) is kept.
 * Pure: `current` is not modified.
 * @throws AddonConfigurationError when `env` exists but is not an object.
 */
export function mergeConfigurationValues(current: Record<string, unknown>, set: Record<string, string>): Record<string, unknown> {
  const env = { ...envOf(current) };
  for (const [key, value] of Object.entries(set)) env[key] = String(value);
  return { ...current, env };
}
