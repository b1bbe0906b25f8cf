/**
 * Parsing a value cell: a decimal number (optionally with an exponent), or one of the non-finite
 * tokens NaN, Infinity, -Infinity, inf, -inf (any case). Anything else — an empty cell, hex,
 * "1,5" — is rejected rather than guessed at (`Number('')` would silently give 0).
 */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE: Readonly<Record<string, number>> = {
  nan: Number.NaN,
  '+nan': Number.NaN,
  '-nan': Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  '+inf': Number.POSITIVE_INFINITY,
  infinity: Number.POSITIVE_INFINITY,
  '+infinity': Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
  '-infinity': Number.NEGATIVE_INFINITY,
};

export type ValueParse =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Parse `text` (already trimmed). The result is the float64 nearest to the decimal (JavaScript's
 * `Number`), so printing it with `String(v)` gives back the shortest text for the same double.
 * Non-finite values are only accepted when `allowNonFinite`.
 */
export function parseValueCell(text: string, allowNonFinite: boolean): ValueParse {
  let value: number;
  if (NUMBER.test(text)) {
    value = Number(text);
    if (Number.isFinite(value)) return { ok: true, value };
    return { ok: false, reason: `value ${JSON.stringify(text)} is beyond the float64 range` };
  } else {
    const special = NON_FINITE[text.toLowerCase()];
    if (special === undefined) {
      return { ok: false, reason: text === '' ? 'empty value' : `value ${JSON.stringify(text)} is not a number` };
    }
    value = special;
  }
  if (allowNonFinite) return { ok: true, value };
  return {
    ok: false,
    reason: `value ${JSON.stringify(text)} is not finite (the stream rejects NaN/±Inf; create it with --allow-nan)`,
  };
}
