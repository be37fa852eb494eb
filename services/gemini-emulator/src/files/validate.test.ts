import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { imageProblem } from "./validate.ts";

describe("imageProblem", () => {
  it("passes a decodable image of the declared type, whatever the case of the type", async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#123456" } })
      .png()
      .toBuffer();
    expect(await imageProblem("image/png", png)).toBeUndefined();
    expect(await imageProblem("IMAGE/PNG", png)).toBeUndefined();
  });

  it("names bytes of another type and images that cannot be decoded", async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#123456" } })
      .jpeg()
      .toBuffer();
    expect(await imageProblem("image/png", jpeg)).toMatch(
      /declared image\/png, but the bytes look like image\/jpeg/,
    );
    expect(await imageProblem("image/jpeg", jpeg.subarray(0, 40))).toMatch(
      /^Unable to process the image: cannot/,
    );
  });

  it("does not judge types that are not images it reads", async () => {
    expect(await imageProblem("application/jsonl", Buffer.from("not an image"))).toBeUndefined();
    expect(await imageProblem("image/gif", Buffer.from("not an image"))).toBeUndefined();
  });
});
