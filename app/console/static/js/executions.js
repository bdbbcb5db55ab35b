// Workflow executions (read-only): each execution, and its steps when opened.

import { ago, badge, duration, empty, h, notice, paged, replace } from "./render.js";

export function mount(root, session) {
  const results = h("div", { class: "results" });
  replace(root, h("div", { class: "view-head" }, h("h1", {}, "Executions")),
    h("p", { class: "muted" }, "Workflow executions, newest first. Open one to see its steps. Read-only."), results);
  if (!session.can("workflows:read")) {
    replace(results, notice("warning", "This key lacks the workflows:read scope: it cannot list executions."));
    return () => {};
  }
  const names = session.api.workflowNames().catch(() => new Map());
  paged(results, "Execution pages", async (after) => {
    const [page] = await Promise.all([session.api.executions(after), names]);
    return page;
  }, (items) => items.length ? list(items, session, names) : empty("No executions yet."));
  return () => {};
}

function list(items, session, names) {
  const node = h("ol", { class: "stack plain" });
  names.then((byId) => {
    for (const item of items) node.append(execution(item, session, byId));
  });
  return node;
}

function execution(item, session, names) {
  const steps = h("div", { class: "steps" }, h("p", { class: "muted small" }, "Loading steps…"));
  const summary = h("summary", {},
    h("span", { class: "summary-title" }, names.get(item.workflowId) ?? item.workflowId), " ", badge(item.status),
    h("span", { class: "muted small" }, " started ", ago(item.startedAt),
      item.finishedAt ? ` · took ${duration(Date.parse(item.finishedAt) - Date.parse(item.startedAt))}` : ""));
  const box = h("details", { class: "panel execution" }, summary,
    h("p", { class: "small" }, h("code", {}, item.id)),
    item.error ? notice("error", item.error) : null, steps);
  let loaded = false;
  box.addEventListener("toggle", async () => {
    if (!box.open || loaded) return;
    loaded = true;
    try {
      replace(steps, stepTable((await session.api.execution(item.id)).steps));
    } catch (error) {
      loaded = false;
      replace(steps, notice("error", error.message));
    }
  });
  return h("li", {}, box);
}

function stepTable(steps) {
  if (!steps.length) return empty("No steps have run.");
  return h("table", { class: "data" },
    h("thead", {}, h("tr", {}, ["#", "Step", "Type", "Status", "Attempts", "Error"].map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, steps.map((s) => h("tr", {},
      h("td", { "data-label": "#" }, String(s.position + 1)),
      h("td", { "data-label": "Step" }, s.name),
      h("td", { "data-label": "Type" }, h("code", {}, s.type)),
      h("td", { "data-label": "Status" }, badge(s.status)),
      h("td", { "data-label": "Attempts" }, String(s.attempts)),
      h("td", { "data-label": "Error" }, s.error ?? "—")))));
}
