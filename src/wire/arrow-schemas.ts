/**
 * The default Arrow schemas of the BTrDB v5 Arrow RPCs. btrdb-python compares names, order,
 * types and nullability with its own (all non-nullable; timestamps in ns with tz "UTC").
 */
import { Field, Float64, Schema, TimestampNanosecond, Uint64 } from 'apache-arrow';

const time = () => new Field('time', new TimestampNanosecond('UTC'), false);
const f64 = (name: string) => new Field(name, new Float64(), false);

/** ArrowRawValues answers and ArrowInsert input: `time` timestamp[ns, UTC], `value` float64. */
export function rawSchema(): Schema {
  return new Schema([time(), f64('value')]);
}

/** ArrowAlignedWindows / ArrowWindows: time, min, mean, max (float64), count (uint64), stddev. */
export function windowsSchema(): Schema {
  return new Schema([
    time(),
    f64('min'),
    f64('mean'),
    f64('max'),
    new Field('count', new Uint64(), false),
    f64('stddev'),
  ]);
}

/**
 * ArrowMultiValues: `time` then one float64 column per stream, named by its uuid in text form
 * (lower-case, hyphenated: Python's `str(uuid)`), in request order.
 */
export function multiValuesSchema(uuids: readonly string[]): Schema {
  return new Schema([time(), ...uuids.map(f64)]);
}
