import { configError } from '../errors.js';
import { MAX_TIMEOUT_MS } from './defaults.js';

/** @internal keys never read from option objects, so JSON-parsed input cannot reach a prototype. */
const IGNORED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** @internal a plain object check that refuses arrays, functions and null. */
export function expectObject(value: unknown, option: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(option, 'an object', value, 'type');
  }
  return value as Record<string, unknown>;
}

/**
 * @internal reads the own, known keys of an option object into a fresh null-prototype object; an unknown key is
 * an error (a typo such as `timout` must not be silently ignored); `__proto__`-style keys are skipped.
 */
export function readKnown(value: unknown, option: string, known: readonly string[]): Record<string, unknown> {
  const input = expectObject(value, option);
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(input)) {
    if (IGNORED_KEYS.has(key)) continue;
    if (!known.includes(key)) throw unknownOption(option, key, input[key], known);
    const v = input[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** The error for an unknown key: each known name listed once, and the closest one suggested (a typo is likely). */
function unknownOption(option: string, key: string, value: unknown, known: readonly string[]): Error {
  const names = [...new Set(known)];
  const close = closestName(key, names);
  const hint = close === undefined ? undefined : `did you mean \`${prefix(option)}${close}\`?`;
  return configError(`${prefix(option)}${key}`, `one of the known options (${names.join(', ')})`, value, 'type', hint);
}

/**
 * @internal the known name a mistyped `name` most likely meant: the same name in another case, or the nearest by
 * edit distance (at most 1 for names up to 4 characters, 2 up to 8, else 3). Only ever called on an error path.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const limit = name.length <= 4 ? 1 : name.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    if (candidate.toLowerCase() === lower) return candidate;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions: `timoeut`, `tiemout`). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]!.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]!.push(d);
    }
  }
  return rows[a.length]![b.length]!;
}

function prefix(option: string): string {
  return option === '' ? '' : `${option}.`;
}

/** @internal a finite number within [min, max], optionally an integer. */
export function expectNumber(
  value: unknown,
  option: string,
  { min = -Infinity, max = Infinity, integer = false, unit = '' }: { min?: number; max?: number; integer?: boolean; unit?: string } = {},
): number {
  const what = `${integer ? 'an integer' : 'a finite number'}${rangeText(min, max)}${unit ? ` (${unit})` : ''}`;
  if (typeof value !== 'number') throw configError(option, what, value, 'type');
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw configError(option, what, value, 'range');
  }
  return value;
}

function rangeText(min: number, max: number): string {
  if (min !== -Infinity && max !== Infinity) return ` between ${min} and ${max}`;
  if (min !== -Infinity) return ` >= ${min}`;
  if (max !== Infinity) return ` <= ${max}`;
  return '';
}

/** @internal */
export function expectBoolean(value: unknown, option: string): boolean {
  if (typeof value !== 'boolean') throw configError(option, 'a boolean', value, 'type');
  return value;
}

/** @internal a non-empty string. */
export function expectKey(value: unknown, option: string): string {
  if (typeof value !== 'string') throw configError(option, 'a non-empty string', value, 'type');
  if (value.length === 0) throw configError(option, 'a non-empty string', value, 'range');
  return value;
}

/** @internal */
export function expectFunction(value: unknown, option: string): (...args: any[]) => any {
  if (typeof value !== 'function') throw configError(option, 'a function', value, 'type');
  return value as (...args: any[]) => any;
}

/** @internal a timeout: a positive integer no larger than a Node timer allows, or `false`. */
export function expectTimeout(value: unknown, option: string): number | false {
  if (value === false) return false;
  const what = `a number of ms between 1 and ${MAX_TIMEOUT_MS}, or false`;
  if (typeof value !== 'number') throw configError(option, what, value, 'type');
  if (!Number.isFinite(value) || value < 1 || value > MAX_TIMEOUT_MS) throw configError(option, what, value, 'range');
  return value;
}

/** @internal one of a fixed set of strings. */
export function expectOneOf<T extends string>(value: unknown, option: string, allowed: readonly T[]): T {
  const what = `one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
  if (typeof value !== 'string') throw configError(option, what, value, 'type');
  if (!allowed.includes(value as T)) throw configError(option, what, value, 'range');
  return value as T;
}
