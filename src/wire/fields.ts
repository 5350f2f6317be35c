/**
 * Checks of decoded frame fields, shared by the agent and router frame
 * parsers: each returns the typed value or throws {@link FrameFieldError}
 * naming the frame and the field.
 */
import { WavemqError } from '../common/errors.ts';

/** A frame field is missing or has the wrong type or value. */
export class FrameFieldError extends WavemqError<{
  frame: string;
  field: string;
}> {
  readonly code = 'FRAME_FIELD_INVALID';
}

/** A decoded CBOR map. */
export type Obj = Record<string, unknown>;

/** Throws the error for `field` of `frame`, saying what was expected. */
export function fail(frame: string, field: string, expected: string): never {
  throw new FrameFieldError(
    `frame '${frame}': field '${field}' must be ${expected}`,
    { frame, field },
  );
}

/** `v` as a map, or throws. */
export function obj(v: unknown, frame: string, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail(frame, field, 'a map');
  }
  return v as Obj;
}

/** Field `f` as a string of at most `max` characters, or throws. */
export function str(o: Obj, f: string, frame: string, max = 4096): string {
  const v = o[f];
  if (typeof v !== 'string' || v.length > max) {
    fail(frame, f, `a string of at most ${max} characters`);
  }
  return v;
}

/** Field `f` as a non-negative safe integer, or throws. */
export function uint(o: Obj, f: string, frame: string): number {
  const v = o[f];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    fail(frame, f, 'a non-negative integer');
  }
  return v;
}

/** Field `f` as a byte string, or throws. */
export function bytes(o: Obj, f: string, frame: string): Uint8Array {
  const v = o[f];
  if (!(v instanceof Uint8Array)) fail(frame, f, 'a byte string');
  return v;
}

/** Field `f` as a byte string when present, or throws. */
export function optBytes(
  o: Obj,
  f: string,
  frame: string,
): Uint8Array | undefined {
  return o[f] === undefined ? undefined : bytes(o, f, frame);
}

/** Field `f` as a list of at most `max` items, or throws. */
export function list(o: Obj, f: string, frame: string, max: number): unknown[] {
  const v = o[f];
  if (!Array.isArray(v) || v.length > max) {
    fail(frame, f, `a list of at most ${max} items`);
  }
  return v;
}
