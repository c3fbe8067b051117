// Counts in words, one way everywhere the verdict speaks: `1 counted line`, `2 counted lines`.

/** `n` and its noun in the right number: `1 file`, `3 files`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** A count against a limit, the noun in the limit's number: `1 / 1 approval`, `612 / 500 lines`. */
export const outOf = (n: number, limit: number, one: string, many = `${one}s`): string => `${n} / ${plural(limit, one, many)}`;
