import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser } from "playwright-core";
import { startStack, TOKEN, type Stack } from "./setup.ts";

// A real browser against the real dashboard during a real run (Redis, S3, emulator, worker).
// Debian's chromium (apt-get install chromium; infra/test.sh installs it) drives it headless.
const CHROMIUM = process.env.TESSERA_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(
    `browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set TESSERA_CHROMIUM)`,
  );
}
/** Screenshots are kept as test artifacts (gitignored). */
const ARTIFACTS = fileURLToPath(new URL("../../../test-artifacts/dashboard/", import.meta.url));

/** The part of a DOM image the checks read (this package compiles without the DOM types). */
interface Picture {
  complete: boolean;
  naturalWidth: number;
}

let stack: Stack;
let browser: Browser;

describe.skipIf(!HAVE_CHROMIUM)("dashboard in Chromium", () => {
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    // Slow answers so the progress has time to move on screen.
    stack = await startStack("browser", {}, 300);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("refuses a browser without the token", async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.dashboard.url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    const api = await page.evaluate(async () => (await fetch("/api/runs")).status);
    expect(api).toBe(401);
    await page.fill("#token", "not-the-token-at-all");
    await page.click("button[type=submit]");
    await expect.poll(() => page.textContent("body")).toContain("not the dashboard's");
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.screenshot({ path: `${ARTIFACTS}login.png` });
    await page.close();
  });

  it("shows a run's progress moving live, then the run page and a preview", async () => {
    const runId = await stack.startDetectRun(12, "browser-set", undefined, true);
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(`${stack.dashboard.url}/login`);
    await page.fill("#token", TOKEN);
    await page.click("button[type=submit]");
    await page.waitForURL(`${stack.dashboard.url}/`);
    const row = page.locator(`tr[data-run="${runId}"]`);
    await row.waitFor();
    const pct = row.locator("[data-pct]");
    expect(await pct.getAttribute("data-pct")).toBe("0");

    // Workers start now; the page is never reloaded: the numbers come over SSE.
    await stack.startWorker();
    const seen = new Set<string>();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const value = (await pct.getAttribute("data-pct")) ?? "";
      seen.add(value);
      if (value !== "0" && value !== "100" && !existsSync(`${ARTIFACTS}runs-live.png`)) {
        await page.screenshot({ path: `${ARTIFACTS}runs-live.png`, fullPage: true });
      }
      if (value === "100") break;
      if (Date.now() > deadline) throw new Error(`progress stuck; seen ${[...seen].join(", ")}`);
      await page.waitForTimeout(150);
    }
    // Seen at 0, at least one value between, and 100, without a reload.
    expect([...seen].some((v) => v !== "0" && v !== "100")).toBe(true);
    await expect
      .poll(() => row.locator("[data-status]").getAttribute("data-status"), { timeout: 30_000 })
      .toBe("completed");
    await page.screenshot({ path: `${ARTIFACTS}runs.png`, fullPage: true });

    await row.locator("a").first().click();
    await page.waitForURL(`${stack.dashboard.url}/runs/${runId}`);
    const images = page.locator(".gallery img");
    await expect.poll(() => images.count(), { timeout: 15_000 }).toBe(12);
    await expect
      .poll(() =>
        images
          .first()
          .evaluate(
            (img) => (img as unknown as Picture).complete && (img as unknown as Picture).naturalWidth > 0,
          ),
      )
      .toBe(true);
    expect(await page.locator("svg.chart rect.done").count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator("[data-error-class]").allTextContents()).toEqual(["bad_image"]);
    await page.screenshot({ path: `${ARTIFACTS}run.png`, fullPage: true });
    await images.nth(1).click();
    const big = page.locator(".lightbox img");
    await expect
      .poll(() => big.evaluate((img) => (img as unknown as Picture).naturalWidth))
      .toBeGreaterThan(100);
    await page.screenshot({ path: `${ARTIFACTS}preview.png` });

    // A schedule and the run its firing started, on the schedules page.
    await stack.schedules.add({
      id: "nightly-detect",
      source: `s3://${stack.bucket.bucket}/browser-set`,
      out: `s3://${stack.bucket.bucket}/out-scheduled`,
      cron: "0 3 * * *",
      tz: "Europe/Paris",
      task: "detect",
      request: JSON.stringify({
        task: "detect",
        model: "gemini-2.5-flash",
        maxOutputTokens: 4096,
        detail: "standard",
        convert: "convert",
      }),
      createdAt: new Date().toISOString(),
    });
    const fired = await stack.fire("nightly-detect");
    expect(fired.kind).toBe("started");
    await page.locator(".lightbox").click(); // closes it
    await page.click("nav a[data-nav=schedules]");
    const schedule = page.locator('[data-schedule="nightly-detect"]');
    await schedule.waitFor();
    expect(await schedule.textContent()).toContain("0 3 * * * (Europe/Paris)");
    await expect.poll(() => schedule.locator("tr[data-run]").count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}schedules.png`, fullPage: true });
    await stack.schedules.remove("nightly-detect");
    await page.close();
  }, 120_000);
});
