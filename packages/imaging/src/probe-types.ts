import type { Orientation } from "./orientation.ts";
import { isOrientation } from "./orientation.ts";

/** What a format's header parser found: the stored size and how to turn it for display. */
export interface HeaderFacts {
  width: number;
  height: number;
  orientation: Orientation;
  warnings: string[];
}

/** EXIF orientation tag value to Orientation; out-of-range values (0 is common) count as 1. */
export function orientationFromTag(value: number | undefined, warnings: string[]): Orientation {
  if (value === undefined) return 1;
  if (isOrientation(value)) return value;
  warnings.push(`EXIF orientation ${value} is not 1-8: treated as 1 (as stored)`);
  return 1;
}
