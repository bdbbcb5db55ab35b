// Webhooks (read-only): each webhook and its recent deliveries with status and response code.

import { ago, badge, empty, h, notice, paged, replace } from "./render.js";

export function mount(root, session) {
  const results = h("div", { class: "results" });
  replace(root, h("div", { class: "view-head" }, h("h1", {}, "Webhooks")),
    h("p", { class: "muted" }, "Recent deliveries of each webhook, newest first. Read-only."), results);
  if (!session.can("webhooks:read")) {
    replace(results, notice("warning", "This key lacks the webhooks:read scope: it cannot list webhooks."));
    return () => {};
  }
  paged(results, "Webhook pages", (after) => session.api.webhooks(after), (hooks) => hooks.length
    ? h("div", { class: "stack" }, hooks.map((hook) => webhook(hook, session)))
    : empty("No webhooks yet."));
  return () => {};
}

function webhook(hook, session) {
  const deliveries = h("div", { class: "deliveries" });
  paged(deliveries, `Deliveries of ${hook.name}`, (after) => session.api.deliveries(hook.id, after), table);
  return h("section", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", {}, hook.name),
      hook.active ? badge("active") : h("span", { class: "badge s-dead" }, "⊘ Disabled")),
    h("p", { class: "small" }, h("code", {}, hook.url)),
    h("p", { class: "muted small" }, `Events: ${hook.events.join(", ")}`,
      hook.consecutiveFailures ? ` · ${hook.consecutiveFailures} consecutive failures` : ""),
    hook.disabledReason ? notice("warning", `Disabled: ${hook.disabledReason}`) : null,
    deliveries);
}

function table(items) {
  if (!items.length) return empty("No deliveries yet.");
  return h("table", { class: "data" },
    h("thead", {}, h("tr", {}, ["Event", "Status", "Response", "Attempts", "Created"].map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, items.map((d) => h("tr", {},
      h("td", { "data-label": "Event" }, h("code", {}, d.event)),
      h("td", { "data-label": "Status" }, badge(d.status)),
      h("td", { "data-label": "Response" }, d.lastStatusCode ? String(d.lastStatusCode) : (d.lastError ?? "—")),
      h("td", { "data-label": "Attempts" }, String(d.attempts)),
      h("td", { "data-label": "Created" }, ago(d.createdAt))))));
}
