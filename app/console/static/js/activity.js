// Activity: recent actions and their decisions, newest first, filtered by status and type, paged.

import { actorLine, ago, badge, empty, h, localTime, notice, paged, replace } from "./render.js";

const STATUSES = [["", "Any status"], ["approved", "Approved"], ["rejected", "Rejected"], ["expired", "Expired"],
  ["cancelled", "Cancelled"], ["pending_approval", "Pending approval"]];

export function mount(root, session) {
  const results = h("div", { class: "results", "aria-live": "polite" });
  const status = h("select", { id: "filter-status", name: "status" },
    STATUSES.map(([value, label]) => h("option", { value }, label)));
  const type = h("input", { id: "filter-type", name: "type", type: "search", placeholder: "e.g. send_email", maxlength: "100" });
  const filters = h("form", { method: "post", class: "filters", role: "search", "aria-label": "Filter activity" },
    h("div", { class: "field" }, h("label", { for: "filter-status" }, "Status"), status),
    h("div", { class: "field" }, h("label", { for: "filter-type" }, "Type"), type),
    h("button", { type: "submit", class: "button" }, "Apply"));
  replace(root, h("div", { class: "view-head" }, h("h1", {}, "Activity")), filters, results);

  if (!session.can("actions:read")) {
    replace(results, notice("warning", "This key lacks the actions:read scope: it cannot list actions."));
    return () => {};
  }
  // each filter mounts a fresh list and unmounts the one before: only the latest filter's answer draws
  let unmount = () => {};
  const show = () => {
    unmount();
    unmount = paged(results, "Activity pages",
      (after) => session.api.activity({ status: status.value, type: type.value.trim(), after }),
      (actions) => rows(actions, session));
  };
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  show();
  return () => unmount();
}

function rows(actions, session) {
  if (!actions.length) return empty("No actions match these filters.");
  return h("ol", { class: "rows" }, actions.map((action) => h("li", { class: "row" },
    h("div", { class: "row-main" },
      h("a", { href: `/console/approve/${action.id}` }, h("span", { class: "type" }, action.type)),
      h("span", { class: "muted small" }, ` ${action.id}`),
      h("div", { class: "small" }, actorLine(action.actor), action.target ? ` → ${action.target}` : "")),
    h("div", { class: "row-status" }, badge(action.status)),
    h("div", { class: "row-when small" },
      action.decidedAt
        ? [h("span", { title: localTime(action.decidedAt) }, "Decided "), ago(action.decidedAt),
          action.decidedBy ? ` by ${action.decidedBy === session.viewer.apiKey.id ? "this key" : action.decidedBy}` : ""]
        : ["Proposed ", ago(action.createdAt)],
      action.reason ? h("div", { class: "reason" }, action.reason) : null))));
}
