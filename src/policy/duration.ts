// A duration written as text ("30s", "60m", "2h") with bounds, for every YAML
// file merge-gate validates with zod (the policy, the deploy trigger's config).
// The text is validated here and parsed by src/duration.ts, the same function
// the code that uses it calls: what validates is exactly what is understood.
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../duration.js';
import { describeInput } from './schema.js';

const FORMAT = 'a duration like "30s", "500ms", "5m" or "2h"';

/** A duration from `min` to `max` (both written as durations), the bounds named in the error. */
export function boundedDuration(min: string, max: string) {
  const [minMs, maxMs] = [parseDuration(min), parseDuration(max)];
  if (minMs === null || maxMs === null) throw new Error(`bad duration bounds ${min}–${max}`);
  return z
    .string({ error: (iss) => `expected ${FORMAT}, got ${describeInput(iss.input)}` })
    .superRefine((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null) ctx.addIssue({ code: 'custom', message: `expected ${FORMAT}, got ${JSON.stringify(text)}` });
      else if (ms < minMs || ms > maxMs) ctx.addIssue({ code: 'custom', message: `expected a duration from ${min} to ${max}, got ${JSON.stringify(text)}` });
    })
    // For editors (the published JSON Schema); the bounds are checked above only.
    .meta({ pattern: DURATION_PATTERN });
}
