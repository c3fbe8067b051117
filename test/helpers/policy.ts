import { formatPolicyError, loadPolicyText } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/schema.js';

/** A policy through the real loader; a test's invalid YAML is a test bug, so it throws with the errors. */
export function validPolicy(yaml: string): Policy {
  const result = loadPolicyText(yaml);
  if (!result.ok) throw new Error(result.errors.map(formatPolicyError).join('\n'));
  return result.policy;
}
