import { describe, expect, it } from "vitest";
import { generateScene, heicEncoderAvailable } from "@tessera/testing";
import { prepareImage } from "./prepare.ts";

// Found by the memory bench: with HEVC HEICs decoded side by side, libvips' shared error buffer
// turned sharp's "no HEVC decoder" into "Unknown error", and valid phone photos were failed as
// undecodable. Before the fix about one decode in two failed here.
describe.skipIf(!heicEncoderAvailable())("HEVC HEIC decoded several at a time (needs heif-enc)", () => {
  it("every concurrent decode succeeds", { timeout: 60_000 }, async () => {
    const scenes = await Promise.all(
      [1, 2].map((seed) => generateScene({ width: 1600, height: 1200, seed, format: "heic" })),
    );
    for (let round = 0; round < 4; round++) {
      const prepared = await Promise.all(
        [...scenes, ...scenes].map((scene) =>
          prepareImage(scene.bytes, { detail: "standard", convert: "convert" }),
        ),
      );
      for (const image of prepared)
        expect(image).toMatchObject({ width: 1024, height: 768, reencoded: true });
    }
  });
});
