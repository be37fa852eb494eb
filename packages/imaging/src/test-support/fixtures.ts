import { existsSync, readFileSync } from "node:fs";

// The shared fixtures live beside the repository, never in it: ../shared from the repo root.
const FIXTURES = new URL("../../../../../shared/fixtures/", import.meta.url);

/** False when ../shared is absent; tests reading fixtures skip then, saying so in their title. */
export const hasSharedFixtures = existsSync(FIXTURES);

export function readFixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

/** Landscape_0.jpg .. Landscape_8.jpg: one 1800x1200 photo under each EXIF orientation (0 is invalid). */
export function orientationFixture(orientation: number): Buffer {
  return readFixture(`exif-orientation/Landscape_${orientation}.jpg`);
}
