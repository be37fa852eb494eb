import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The ingest process lists and probes headers only; sharp would add ~25 MiB to its
// RSS (docs/performance.md, ingest) for nothing. This guards the imports
// that keep it out: @tessera/imaging/header, and tasks' lazy sharp.
describe("the ingest package's imports", () => {
  it("do not load sharp (libvips)", () => {
    const script = `
      await import("@tessera/ingest");
      const { readFileSync } = await import("node:fs");
      const maps = readFileSync("/proc/self/maps", "utf8");
      console.log(JSON.stringify({ libvips: maps.includes("libvips") }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
    });
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({ libvips: false });
  });
});
