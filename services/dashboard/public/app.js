// Tessera dashboard: plain DOM, no framework. Every value comes from the JSON API; live changes
// from /api/stream (server-sent events). Text is always set with textContent (never innerHTML).

const app = document.getElementById("app");
const live = document.getElementById("live");
let session = { actions: false };
let source;

function h(tag, attrs = {}, ...children) {
  const el = document.createElementNS(
    ["svg", "rect", "line", "text", "g", "title"].includes(tag)
      ? "http://www.w3.org/2000/svg"
      : "http://www.w3.org/1999/xhtml",
    tag,
  );
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

const fmt = new Intl.NumberFormat("en");
const n = (x) => fmt.format(Math.round(x));
const usd = (x) => (x < 0.01 && x > 0 ? `$${x.toFixed(4)}` : `$${x.toFixed(2)}`);
const compact = (x) =>
  x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : String(x);
function duration(s) {
  if (s == null) return "–";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
}
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

function csrf() {
  const m = document.cookie.match(/(?:^|; )tessera_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { accept: "application/json", ...(init.headers || {}) },
  });
  if (res.status === 401) {
    location.href = "/login";
    throw new Error("signed out");
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `${res.status}`);
  return body;
}

async function act(path, label) {
  try {
    await api(path, { method: "POST", headers: { "x-csrf-token": csrf() } });
    toast(`${label}: done`);
  } catch (err) {
    toast(`${label}: ${err.message}`);
  }
}

function toast(text) {
  const el = h("div", { class: "toast", role: "status", text });
  document.body.append(el);
  setTimeout(() => el.remove(), 3500);
}

function badge(run) {
  const status = run.paused && !run.ended ? "paused" : run.status;
  return h("span", { class: `badge ${status}`, "data-status": status, text: status.replace("_", " ") });
}

function progressBar(run) {
  const c = run.counts;
  if (run.progress === null) {
    return h(
      "div",
      {},
      h("div", { class: "progress indeterminate" }, h("span")),
      h("div", { class: "pct", text: "scanning…" }),
    );
  }
  const total = Math.max(1, c.images);
  const seg = (cls, value) => {
    const span = h("span", { class: cls });
    span.style.width = `${(100 * value) / total}%`;
    return span;
  };
  return h(
    "div",
    {},
    h(
      "div",
      {
        class: "progress",
        role: "progressbar",
        "aria-valuenow": Math.round(run.progress * 100),
        "aria-valuemin": 0,
        "aria-valuemax": 100,
      },
      seg("done", c.done),
      seg("failed", c.failed + c.blocked),
      seg("other", c.budgetSkipped + c.cancelled),
    ),
    h("div", {
      class: "pct",
      "data-pct": Math.round(run.progress * 100),
      text: `${Math.round(run.progress * 100)}% · ${n(c.settled)} / ${n(c.images)}`,
    }),
  );
}

function connect(url, handlers) {
  source?.close();
  source = new EventSource(url);
  source.onopen = () => {
    live.textContent = "live";
    live.classList.add("on");
  };
  source.onerror = () => {
    live.textContent = "reconnecting…";
    live.classList.remove("on");
  };
  for (const [event, fn] of Object.entries(handlers))
    source.addEventListener(event, (e) => fn(JSON.parse(e.data)));
}

// ---------------------------------------------------------------- runs list

function runsTable(runs) {
  if (runs.length === 0)
    return h("div", { class: "empty", text: "No runs yet. Start one with `tessera run`." });
  return h(
    "table",
    { id: "runs" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Run", "Status", "Progress", "Task", "Tokens in / out", "Cost", "Elapsed"].map((t) =>
          h("th", { text: t }),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      runs.map((run) =>
        h(
          "tr",
          { class: "row", "data-run": run.runId },
          h(
            "td",
            {},
            h("a", { href: `/runs/${encodeURIComponent(run.runId)}`, class: "mono", text: run.runId }),
            run.scheduleId ? h("div", { class: "muted", text: `schedule ${run.scheduleId}` }) : null,
          ),
          h("td", {}, badge(run)),
          h("td", {}, progressBar(run)),
          h("td", { text: run.task }),
          h("td", { class: "mono", text: `${compact(run.tokens.prompt)} / ${compact(run.tokens.output)}` }),
          h("td", { class: "mono", text: usd(run.costUsd) }),
          h("td", { text: duration(run.elapsedS) }),
        ),
      ),
    ),
  );
}

function runsPage() {
  const body = h("div", { class: "panel" }, h("div", { class: "empty", text: "Loading…" }));
  const stats = h("div", { class: "grid cols-4" });
  app.replaceChildren(
    h(
      "div",
      { class: "head" },
      h(
        "div",
        {},
        h("h1", { text: "Runs" }),
        h("div", { class: "muted", text: "Live from Redis; newest first." }),
      ),
    ),
    stats,
    h("div", { class: "spacer" }),
    body,
  );
  connect("/api/stream", {
    runs: (runs) => {
      const active = runs.filter((r) => !r.ended);
      const images = runs.reduce((s, r) => s + r.counts.done, 0);
      const cost = runs.reduce((s, r) => s + r.costUsd, 0);
      const failed = runs.reduce((s, r) => s + r.counts.failed, 0);
      stats.replaceChildren(
        stat("Active runs", n(active.length), `${runs.length} recent`),
        stat("Images done", n(images), "in the runs listed"),
        stat("Failed", n(failed), "in the runs listed"),
        stat("Spent", usd(cost), "in the runs listed"),
      );
      body.replaceChildren(runsTable(runs));
    },
  });
}

function stat(label, value, sub) {
  return h(
    "div",
    { class: "stat" },
    h("div", { class: "label", text: label }),
    h("div", { class: "value", text: value }),
    h("div", { class: "sub", text: sub }),
  );
}

// ---------------------------------------------------------------- run page

function throughputChart(digest) {
  const pts = digest.throughput.points;
  if (pts.length === 0) return h("div", { class: "empty", text: "No outcomes yet." });
  const W = 600,
    H = 170,
    pad = 24;
  const max = Math.max(1, ...pts.map((p) => p.done + p.failed));
  const bw = (W - pad) / pts.length;
  const svg = h("svg", {
    class: "chart",
    viewBox: `0 0 ${W} ${H}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": "images per interval",
  });
  svg.append(h("line", { x1: pad, y1: H - 14, x2: W, y2: H - 14 }));
  svg.append(h("text", { x: 0, y: 10, text: String(max) }));
  svg.append(h("text", { x: 0, y: H - 16, text: "0" }));
  pts.forEach((p, i) => {
    const x = pad + i * bw + 1;
    const hd = ((H - 24) * p.done) / max;
    const hf = ((H - 24) * p.failed) / max;
    const g = h(
      "g",
      {},
      h("title", { text: `${new Date(p.t).toLocaleTimeString()}: ${p.done} done, ${p.failed} failed` }),
    );
    g.append(h("rect", { class: "done", x, y: H - 14 - hd, width: Math.max(1, bw - 2), height: hd }));
    g.append(h("rect", { class: "failed", x, y: H - 14 - hd - hf, width: Math.max(1, bw - 2), height: hf }));
    svg.append(g);
  });
  svg.append(h("text", { x: pad, y: H - 2, text: new Date(pts[0].t).toLocaleTimeString() }));
  svg.append(h("text", { x: W - 60, y: H - 2, text: new Date(pts.at(-1).t).toLocaleTimeString() }));
  return h(
    "div",
    {},
    svg,
    h("div", { class: "muted", text: `images per ${digest.throughput.bucketS}s (green done, red failed)` }),
  );
}

function compareRow(label, estimate, actual, format) {
  const max = Math.max(estimate, actual, 1e-9);
  const bar = (cls, v) => {
    const span = h("span", { class: cls });
    span.style.width = `${(100 * v) / max}%`;
    return h("div", { class: "bar" }, span);
  };
  return [
    h(
      "div",
      { class: "compare" },
      h("span", { class: "muted", text: `${label} est.` }),
      bar("estimate", estimate),
      h("span", { class: "mono", text: format(estimate) }),
    ),
    h(
      "div",
      { class: "compare" },
      h("span", { class: "muted", text: `${label} actual` }),
      bar("actual", actual),
      h("span", { class: "mono", text: format(actual) }),
    ),
  ];
}

function runDetails(run) {
  const c = run.counts;
  const actions = h(
    "div",
    { class: "actions" },
    run.paused
      ? h("button", {
          class: "btn",
          disabled: !session.actions || run.ended,
          onclick: () => act(`/api/runs/${run.runId}/resume`, "resume"),
          text: "Resume",
        })
      : h("button", {
          class: "btn",
          disabled: !session.actions || run.ended,
          onclick: () => act(`/api/runs/${run.runId}/pause`, "pause"),
          text: "Pause",
        }),
    h("button", {
      class: "btn danger",
      disabled: !session.actions || run.ended,
      onclick: () => confirm(`Cancel run ${run.runId}?`) && act(`/api/runs/${run.runId}/cancel`, "cancel"),
      text: "Cancel",
    }),
    h("button", {
      class: "btn",
      disabled: !session.actions || !run.ended || c.failed === 0,
      onclick: () => act(`/api/runs/${run.runId}/retry`, "retry failed"),
      text: `Retry failed (${c.failed})`,
    }),
  );
  if (!session.actions)
    actions.title = "read-only dashboard (TESSERA_DASHBOARD_ACTIONS=true enables actions)";
  return [
    h(
      "div",
      { class: "head" },
      h(
        "div",
        {},
        h("h1", { class: "mono", text: run.runId }),
        h(
          "div",
          {},
          badge(run),
          " ",
          h("span", { class: "muted", text: `${run.task} · ${run.model}` }),
          run.statusReason ? h("span", { class: "muted", text: ` · ${run.statusReason}` }) : null,
        ),
      ),
      actions,
    ),
    h("div", { class: "panel" }, progressBar(run)),
    h(
      "div",
      { class: "grid cols-4" },
      stat("Done", n(c.done), `${n(c.failed)} failed · ${n(c.blocked)} blocked`),
      stat(
        "Skipped",
        n(c.skipped),
        `${n(c.unchanged)} unchanged · ${n(c.budgetSkipped)} budget · ${n(c.cancelled)} cancelled`,
      ),
      stat(
        "Throughput",
        `${run.ratePerS.toFixed(2)}/s`,
        run.etaS == null ? `elapsed ${duration(run.elapsedS)}` : `ETA ${duration(run.etaS)}`,
      ),
      stat(
        "Cost",
        usd(run.costUsd),
        `estimate ${usd(run.estimate.costUsd)}${run.budget.costLeftUsd !== undefined ? ` · ${usd(run.budget.costLeftUsd)} left` : ""}`,
      ),
    ),
  ];
}

function runPage(runId) {
  const top = h("div", {}, h("div", { class: "empty", text: "Loading…" }));
  const chart = h("div", {});
  const tokens = h("div", {});
  const errors = h("div", {});
  const events = h("ul", {});
  const gallery = h("div", { class: "gallery" });
  const config = h("dl", { class: "kv" });
  app.replaceChildren(
    top,
    h(
      "div",
      { class: "grid cols-2" },
      h("section", { class: "panel" }, h("h2", { text: "Throughput" }), chart),
      h("section", { class: "panel" }, h("h2", { text: "Tokens and cost" }), tokens),
    ),
    h(
      "div",
      { class: "grid cols-2" },
      h("section", { class: "panel" }, h("h2", { text: "Errors by class" }), errors),
      h("section", { class: "panel" }, h("h2", { text: "Events" }), h("div", { class: "events" }, events)),
    ),
    h("section", { class: "panel", id: "gallery-panel" }, h("h2", { text: "Gallery" }), gallery),
    h("section", { class: "panel" }, h("h2", { text: "Configuration" }), config),
  );
  let lastRun;
  let digestTimer;
  const loadDigest = async () => {
    const digest = await api(`/api/runs/${encodeURIComponent(runId)}/digest`);
    chart.replaceChildren(throughputChart(digest));
    errors.replaceChildren(
      digest.errors.length === 0
        ? h("div", { class: "empty", text: "No failures." })
        : h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { text: "Class" }),
                h("th", { text: "Count" }),
                h("th", { text: "Examples" }),
              ),
            ),
            h(
              "tbody",
              {},
              digest.errors.map((e) =>
                h(
                  "tr",
                  {},
                  h(
                    "td",
                    {},
                    h("span", { class: "badge failed", "data-error-class": e.class, text: e.class }),
                  ),
                  h("td", { text: n(e.count) }),
                  h(
                    "td",
                    {},
                    e.examples.map((x) =>
                      h(
                        "div",
                        {},
                        h("span", { class: "mono", text: x.key }),
                        h("span", { class: "muted", text: ` — ${x.message}` }),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
    );
    if (lastRun?.previews) {
      const have = new Set([...gallery.querySelectorAll("figure")].map((f) => f.dataset.key));
      for (const key of digest.doneKeys) {
        if (have.has(key)) continue;
        const src = `/api/runs/${encodeURIComponent(runId)}/preview?key=${encodeURIComponent(key)}`;
        gallery.append(
          h(
            "figure",
            { "data-key": key },
            h("img", { src, alt: `preview of ${key}`, loading: "lazy", onclick: () => lightbox(src) }),
            h("figcaption", { text: key, title: key }),
          ),
        );
      }
      if (digest.doneKeys.length === 0 && !gallery.firstChild)
        gallery.append(h("div", { class: "empty", text: "No annotated images yet." }));
    } else {
      gallery.replaceChildren(
        h("div", { class: "empty", text: "Previews are drawn for detect and segment runs." }),
      );
    }
  };
  const addEvents = (list) => {
    for (const e of list) {
      const f = e.fields;
      const text =
        e.type === "status"
          ? `status → ${f.status}${f.reason ? ` (${f.reason})` : ""}`
          : e.type === "item"
            ? `${f.status}: ${f.key} — ${f.message}`
            : e.type === "paused"
              ? f.paused === "1"
                ? "paused"
                : "resumed"
              : e.type;
      events.prepend(
        h(
          "li",
          {},
          h("span", { class: "muted mono", text: `${new Date(f.at).toLocaleTimeString()} ` }),
          text,
        ),
      );
    }
  };
  api(`/api/runs/${encodeURIComponent(runId)}/events`).then(
    (list) => addEvents(list.reverse()),
    () => {},
  );
  connect(`/api/stream?run=${encodeURIComponent(runId)}`, {
    run: (run) => {
      if (!run) {
        top.replaceChildren(h("div", { class: "alert", text: `No run ${runId}.` }));
        return;
      }
      const first = !lastRun;
      lastRun = run;
      top.replaceChildren(...runDetails(run));
      tokens.replaceChildren(
        ...compareRow("Input", run.estimate.promptTokens, run.tokens.prompt, compact),
        ...compareRow("Output", run.estimate.outputTokens, run.tokens.output, compact),
        ...compareRow("Cost", run.estimate.costUsd, run.costUsd, usd),
        h("div", {
          class: "muted",
          text: `Input estimated for the images done so far: ${compact(run.estimate.donePromptTokens)} tokens, billed ${compact(run.tokens.prompt)}.`,
        }),
      );
      config.replaceChildren(
        ...[
          ["source", run.source],
          ["output", run.out],
          ["created", when(run.createdAt)],
          ["finished", when(run.finishedAt)],
          ["schedule", run.scheduleId ?? "–"],
          ["incremental from", run.baseRunId ?? "–"],
          ["prompt", run.prompt],
        ].flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]),
      );
      clearTimeout(digestTimer);
      digestTimer = setTimeout(() => loadDigest().catch(() => {}), first ? 0 : 1500);
    },
    events: addEvents,
  });
}

function lightbox(src) {
  const box = h("div", { class: "lightbox", onclick: () => box.remove() }, h("img", { src, alt: "preview" }));
  document.body.append(box);
}

// ---------------------------------------------------------------- schedules

let schedulesTimer;

async function schedulesPage() {
  source?.close();
  clearTimeout(schedulesTimer);
  const list = await api("/api/schedules");
  // No event stream for schedules: the page reads them again every few seconds.
  live.textContent = "every 3s";
  live.classList.add("on");
  schedulesTimer = setTimeout(() => {
    if (location.pathname.startsWith("/schedules")) schedulesPage().catch(() => {});
  }, 3000);
  if (list.length === 0) {
    app.replaceChildren(
      h("h1", { text: "Schedules" }),
      h("div", { class: "panel empty", text: "No schedules. Add one with `tessera schedule add`." }),
    );
    return;
  }
  app.replaceChildren(
    h("div", { class: "head" }, h("h1", { text: "Schedules" })),
    ...list.map((s) =>
      h(
        "section",
        { class: "panel", "data-schedule": s.id },
        h(
          "div",
          { class: "head" },
          h(
            "div",
            {},
            h("h1", { class: "mono", text: s.id }),
            h("div", { class: "muted", text: `${s.cron} (${s.tz}) · ${s.task} · ${s.source} → ${s.out}` }),
          ),
          h(
            "div",
            { class: "actions" },
            h("span", {
              class: `badge ${s.paused ? "paused" : "running"}`,
              text: s.paused ? "paused" : `next ${when(s.next)}`,
            }),
            h("button", {
              class: "btn",
              disabled: !session.actions,
              onclick: () =>
                act(
                  `/api/schedules/${s.id}/${s.paused ? "resume" : "pause"}`,
                  s.paused ? "resume" : "pause",
                ).then(schedulesPage),
              text: s.paused ? "Resume" : "Pause",
            }),
          ),
        ),
        s.lastSkipReason
          ? h("div", { class: "alert", text: `Last firing started no run: ${s.lastSkipReason}` })
          : null,
        h("div", {
          class: "muted spaced",
          text: `${s.firings} firing${s.firings === 1 ? "" : "s"}; last ${when(s.lastFiredAt)}`,
        }),
        s.history.length ? runsTable(s.history) : h("div", { class: "empty", text: "No runs yet." }),
      ),
    ),
  );
}

// ---------------------------------------------------------------- routing

function route() {
  const path = location.pathname;
  clearTimeout(schedulesTimer);
  for (const a of document.querySelectorAll("nav a[data-nav]"))
    a.classList.toggle(
      "active",
      (a.dataset.nav === "schedules") === path.startsWith("/schedules") && !path.startsWith("/queues"),
    );
  if (path.startsWith("/runs/")) return runPage(decodeURIComponent(path.slice("/runs/".length)));
  if (path.startsWith("/schedules"))
    return schedulesPage().catch((e) => app.replaceChildren(h("div", { class: "alert", text: e.message })));
  return runsPage();
}

document.addEventListener("click", (e) => {
  const a = e.target.closest?.("a");
  if (!a || a.classList.contains("external") || a.origin !== location.origin || e.metaKey || e.ctrlKey)
    return;
  if (!(a.pathname === "/" || a.pathname.startsWith("/runs/") || a.pathname === "/schedules")) return;
  e.preventDefault();
  history.pushState({}, "", a.href);
  route();
});
window.addEventListener("popstate", route);

session = await api("/api/session").catch(() => session);
route();
