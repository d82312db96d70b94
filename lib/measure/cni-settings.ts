/**
 * The VPC CNI settings that decide how many addresses a node holds, read from the managed
 * add-on's configurationValues (`{"env": {"WARM_IP_TARGET": "5", ...}}`). Pure. How values are
 * parsed and defaulted is cited on {@link readCniSettings}.
 *
 * Design: docs/models.md#libmeasurecni-settingsts-the-vpc-cni-settings
 */
import type { CniInstall } from '../inventory/types';

export interface CniSettings {
  /** Where the values come from. 'defaults' means the managed add-on with no env overrides. */
  source: 'add-on' | 'defaults' | 'unknown';
  addonVersion?: string;
  prefixDelegation?: boolean;
  customNetworking?: boolean;
  warmEniTarget?: number;
  warmIpTarget?: number;
  minimumIpTarget?: number;
  warmPrefixTarget?: number;
  /** ENABLE_POD_ENI: security groups for pods, so each node gets a trunk ENI (default false). */
  podEni?: boolean;
  /** MAX_ENI when set to 1 or more: the CNI attaches at most this many ENIs per node. */
  maxEni?: number;
  /** Values present in the document that are not what the CNI accepts, named. */
  invalid: string[];
}

/**
 * Go's `strconv.ParseBool` (Go standard library, strconv/atob.go): the only spellings ipamd accepts
 * for a boolean setting. Undefined for anything else.
 */
export function parseGoBool(text: string): boolean | undefined {
  switch (text) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
    default:
      return undefined;
  }
}

const GO_BOOL_SPELLINGS = '1, t, T, TRUE, true, True, 0, f, F, FALSE, false or False';

function envOf(values: Record<string, unknown>): Record<string, unknown> {
  const env = values['env'];
  return env && typeof env === 'object' && !Array.isArray(env) ? (env as Record<string, unknown>) : {};
}

/**
 * Reads the CNI settings of a cluster's VPC CNI installation.
 *
 * Defaults are the VPC CNI's own (amazon-vpc-cni-k8s README, "ENI Allocation" and the env
 * var reference): WARM_ENI_TARGET=1, WARM_PREFIX_TARGET=1 in prefix mode, prefix delegation
 * and custom networking off.
 *
 * Values are parsed as ipamd parses them (aws/amazon-vpc-cni-k8s, read at commit b52188387f2e).
 */
export function readCniSettings(cni: CniInstall): CniSettings {
  if (cni.kind !== 'managed') return { source: 'unknown', invalid: [] };
  const env = envOf(cni.configurationValues);
  const invalid: string[] = [];
  // - booleans with Go's `strconv.ParseBool` (accepts exactly 1, t, T, TRUE, true, True, 0, f, F,
  //   FALSE, false, False; no spaces): ENABLE_PREFIX_DELEGATION (`usePrefixDelegation`) and
  //   ENABLE_POD_ENI (`EnablePodENI`) through `utils/utils.go` `GetBoolAsStringEnvVar`, which on a
  //   parse error logs "Failed to parse variable ... as boolean" and returns the default, false;
  //   AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG through `pkg/ipamd/ipamd.go` `parseBoolEnvVar`, which treats
  //   an empty value as unset and otherwise does the same. So a value ipamd cannot parse runs as
  //   false: the setting here takes that value too, and the value is listed in `invalid` (measure
  //   reports it as a problem of the cluster, which stops any action on it) rather than passed over.
  // `emptyIsUnset`: parseBoolEnvVar (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG) skips an empty value;
  // GetBoolAsStringEnvVar hands it to ParseBool, which rejects it.
  const bool = (key: string, emptyIsUnset = false): boolean | undefined => {
    const v = env[key];
    if (v === undefined || (emptyIsUnset && v === '')) return undefined;
    // JSON booleans: the document's own spelling of a boolean, the same to ipamd once written as env.
    const parsed = typeof v === 'boolean' ? v : typeof v === 'string' ? parseGoBool(v) : undefined;
    if (parsed === undefined) {
      invalid.push(`${key}=${JSON.stringify(v)} (not a boolean to the CNI, which then runs with false: expected ${GO_BOOL_SPELLINGS})`);
    }
    return parsed;
  };
  // MAX_ENI: `strconv.Atoi`, used only when ≥ 1 (getMaxENI).
  // - MAX_ENI with `strconv.Atoi` (`getMaxENI`): a whole number; 0 or less means "not set" (the
  //   instance type's maximum), a value that is not a number is ignored the same way (and listed).
  const maxEni = (): number | undefined => {
    const v = env['MAX_ENI'];
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n)) {
      invalid.push(`MAX_ENI=${JSON.stringify(v)} (not a whole number: the CNI ignores it and uses the instance type's maximum)`);
      return undefined;
    }
    return n >= 1 ? n : undefined;
  };
  const int = (key: string): number | undefined => {
    const v = env[key];
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 0) {
      invalid.push(`${key}=${JSON.stringify(v)} (expected a whole number as a string)`);
      return undefined;
    }
    return n;
  };
  const settings: CniSettings = {
    source: Object.keys(env).length > 0 ? 'add-on' : 'defaults',
    addonVersion: cni.addon.addonVersion,
    prefixDelegation: bool('ENABLE_PREFIX_DELEGATION') ?? false,
    customNetworking: bool('AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', true) ?? false,
    warmEniTarget: int('WARM_ENI_TARGET'),
    warmIpTarget: int('WARM_IP_TARGET'),
    minimumIpTarget: int('MINIMUM_IP_TARGET'),
    warmPrefixTarget: int('WARM_PREFIX_TARGET'),
    podEni: bool('ENABLE_POD_ENI') ?? false,
    maxEni: maxEni(),
    invalid,
  };
  // WARM_ENI_TARGET defaults to 1, but WARM_IP_TARGET / MINIMUM_IP_TARGET override it when set
  // (amazon-vpc-cni-k8s docs/eni-and-ip-target.md), and in prefix mode they override
  // WARM_PREFIX_TARGET (docs/prefix-and-ip-target.md). ipamd counts them as set only when non-zero:
  // pkg/ipamd/ipamd.go `warmIPTargetsDefined` compares with noWarmIPTarget = noMinimumIPTarget = 0.
  if (settings.warmEniTarget === undefined && !ipTargetsSet(settings)) {
    settings.warmEniTarget = 1;
  }
  if (settings.prefixDelegation && settings.warmPrefixTarget === undefined && !ipTargetsSet(settings)) {
    settings.warmPrefixTarget = 1;
  }
  return settings;
}

/**
 * Whether WARM_IP_TARGET or MINIMUM_IP_TARGET is in force: ipamd counts them as set only when
 * non-zero (pkg/ipamd/ipamd.go `warmIPTargetsDefined`).
 */
export function ipTargetsSet(s: { warmIpTarget?: number | undefined; minimumIpTarget?: number | undefined }): boolean {
  return (s.warmIpTarget ?? 0) > 0 || (s.minimumIpTarget ?? 0) > 0;
}
