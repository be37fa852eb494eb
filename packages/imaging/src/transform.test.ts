import { describe, expect, it } from "vitest";
import type { Orientation } from "./orientation.ts";
import { orientedSize } from "./orientation.ts";
import {
  boxToOriginal,
  boxToStored,
  identityTransform,
  normalizedBoxToOriginal,
  storedToOriginalPixels,
  toOriginalPixels,
  toSentPixels,
  toStoredPixels,
  transformFor,
  type PixelBox,
} from "./transform.ts";

const ALL: Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];
const stored = { width: 4032, height: 3024 };

function transformAt(
  o: Orientation,
  sent: { width: number; height: number },
): ReturnType<typeof transformFor> {
  return transformFor(stored, o, orientedSize(stored, o), sent);
}

describe("coordinate mapping between the sent image and the original", () => {
  it("scales sent pixels up to the original's display pixels", () => {
    const t = transformAt(6, { width: 768, height: 1024 });
    expect(t.original).toEqual({ width: 3024, height: 4032 });
    expect(t.scaleX).toBeCloseTo(768 / 3024, 12);
    expect(toOriginalPixels(t, 0, 0)).toEqual([0, 0]);
    expect(toOriginalPixels(t, 768, 1024)).toEqual([3024, 4032]);
    expect(toOriginalPixels(t, 384, 512)).toEqual([1512, 2016]);
  });

  it("round-trips points sent -> original -> sent and original -> stored -> original", () => {
    for (const o of ALL) {
      const t = transformAt(o, o >= 5 ? { width: 767, height: 1024 } : { width: 1024, height: 767 });
      for (let i = 0; i < 50; i++) {
        const x = (i * 37.3) % t.sent.width;
        const y = (i * 91.7) % t.sent.height;
        const [ox, oy] = toOriginalPixels(t, x, y);
        const [sx, sy] = toSentPixels(t, ox, oy);
        expect(sx).toBeCloseTo(x, 9);
        expect(sy).toBeCloseTo(y, 9);
        const [px, py] = toStoredPixels(t, ox, oy);
        expect(px).toBeGreaterThanOrEqual(0);
        expect(px).toBeLessThanOrEqual(stored.width);
        expect(py).toBeLessThanOrEqual(stored.height);
        const [bx, by] = storedToOriginalPixels(t, px, py);
        expect(bx).toBeCloseTo(ox, 9);
        expect(by).toBeCloseTo(oy, 9);
      }
    }
  });

  it("maps the display's top-left corner to where orientation puts it in the stored grid", () => {
    // Orientation 6: the stored image is turned a quarter clockwise for display, so the display's
    // top-left is the stored bottom-left.
    expect(toStoredPixels(transformAt(6, { width: 3024, height: 4032 }), 0, 0)).toEqual([0, 3024]);
    expect(toStoredPixels(transformAt(8, { width: 3024, height: 4032 }), 0, 0)).toEqual([4032, 0]);
    expect(toStoredPixels(transformAt(3, stored), 0, 0)).toEqual([4032, 3024]);
    expect(toStoredPixels(transformAt(1, stored), 0, 0)).toEqual([0, 0]);
  });

  it("keeps boxes ordered and inside the frame, and their area scales by the transform", () => {
    const t = transformAt(1, { width: 1024, height: 768 });
    expect(boxToOriginal(t, [512, 384, 256, 192])).toEqual([1008, 756, 2016, 1512]);
    expect(boxToOriginal(t, [-10, -5, 2000, 900])).toEqual([0, 0, 4032, 3024]);
    const box: PixelBox = [100, 50, 300, 250];
    const [x0, y0, x1, y1] = boxToOriginal(t, box);
    expect((x1 - x0) * (y1 - y0)).toBeCloseTo((200 * 200) / (t.scaleX * t.scaleY), 6);
  });

  it("maps display boxes to stored boxes of the same area under every orientation", () => {
    for (const o of ALL) {
      const t = transformAt(o, orientedSize({ width: 1024, height: 768 }, o));
      const display: PixelBox = [10, 20, 110, 70];
      const [x0, y0, x1, y1] = boxToStored(t, display);
      expect(x1 - x0, `orientation ${o}`).toBe(o >= 5 ? 50 : 100);
      expect(y1 - y0, `orientation ${o}`).toBe(o >= 5 ? 100 : 50);
    }
  });

  it("reads Gemini's box_2d ([ymin, xmin, ymax, xmax] over 0..1000) into original pixels", () => {
    const t = transformAt(1, { width: 1024, height: 768 });
    expect(normalizedBoxToOriginal(t, [0, 0, 1000, 1000])).toEqual([0, 0, 4032, 3024]);
    expect(normalizedBoxToOriginal(t, [250, 500, 750, 1000])).toEqual([2016, 756, 4032, 2268]);
    // Reversed corners, as real answers sometimes have, still give an ordered box.
    expect(normalizedBoxToOriginal(t, [750, 1000, 250, 500])).toEqual([2016, 756, 4032, 2268]);
  });

  it("is the identity when nothing was changed", () => {
    const t = identityTransform({ width: 640, height: 480 });
    expect(t).toMatchObject({ orientation: 1, scaleX: 1, scaleY: 1 });
    expect(toOriginalPixels(t, 12.5, 33)).toEqual([12.5, 33]);
    expect(toStoredPixels(t, 12.5, 33)).toEqual([12.5, 33]);
  });
});
