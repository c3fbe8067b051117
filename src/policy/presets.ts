// The bundled presets in policies/*.yml, read once and kept.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseYaml, type ParsedYaml } from './load.js';

/** `preset: none` merges nothing: every key takes the schema default. */
export const PRESET_NONE = 'none';

// src/policy/ and lib/policy/ both sit two levels below the package root.
const PRESET_DIR = fileURLToPath(new URL('../../policies/', import.meta.url));
const cache = new Map<string, ParsedYaml | null>();

export function listPresets(): string[] {
  return readdirSync(PRESET_DIR)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function presetText(name: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !listPresets().includes(name)) return null;
  return readFileSync(`${PRESET_DIR}${name}.yml`, 'utf8');
}

/** The parsed preset, or null when there is no preset of that name. */
export function presetDocument(name: string): ParsedYaml | null {
  if (!cache.has(name)) {
    const text = presetText(name);
    cache.set(name, text === null ? null : parseYaml(text, `policies/${name}.yml`));
  }
  return cache.get(name) ?? null;
}
