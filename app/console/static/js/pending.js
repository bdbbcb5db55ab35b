// Pending approvals, live: the `pendingApprovals` subscription adds and removes items; after a
// reconnect it resumes with `since` = the last seq seen, so changes made meanwhile are replayed.
//
// Every change is applied idempotently (an action once decided never comes back; a created one is
// fetched and kept only while still pending), so the first list query and the subscription's
// replay may overlap in any order.

import { SUBSCRIPTIONS } from "./graphql.js";
import { actorLine, ago, append, badge, check, empty, h, keyParams, notice, replace, retime, until } from "./render.js";

// The first subscribe replays this much history: it covers the list query's flight and clock skew.
const REPLAY_MARGIN_MS = 120_000;

export function mount(root, session) {
  const items = new Map(); // actionId -> action
  const cards = new Map(); // actionId -> <li>
  const removed = new Set(); // decided or expired: never pending again
  const count = h("p", { class: "count", role: "status" }, "Loading…");
  const messages = h("div", { class: "messages" });
  const list = h("ol", { class: "cards", "aria-label": "Actions waiting for a decision" });
  replace(root, h("div", { class: "view-head" }, h("h1", {}, "Pending approvals"), count), messages, list);

  const missing = ["approvals:read", "actions:read"].filter((scope) => !session.can(scope));
  if (missing.length) {
    replace(count, "");
    append(messages, notice("warning", `This key lacks ${missing.join(" and ")}: it cannot list the actions waiting.`));
    return () => {};
  }

  const draw = () => {
    const ordered = [...items.values()].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    for (const [id, node] of cards) {
      if (!items.has(id)) {
        node.remove();
        cards.delete(id);
      }
    }
    ordered.forEach((item, index) => {
      const node = cards.get(item.id) ?? cards.set(item.id, card(item, session)).get(item.id);
      if (list.children[index] !== node) list.insertBefore(node, list.children[index] ?? null);
    });
    replace(count, items.size === 1 ? "1 action waiting" : `${items.size} actions waiting`);
    list.hidden = items.size === 0;
    const blank = messages.querySelector(".empty");
    if (items.size === 0 && !blank) append(messages, empty("Nothing is waiting for a decision. New actions appear here as agents propose them."));
    if (items.size > 0 && blank) blank.remove();
  };

  const keep = (action) => {
    if (action.status !== "pending_approval" || removed.has(action.id) || items.has(action.id)) return;
    items.set(action.id, action);
    draw();
  };
  const fail = (error) => replace(messages, notice("error", error.message));

  const variables = { since: new Date(Date.now() - REPLAY_MARGIN_MS).toISOString() };
  const onChange = ({ pendingApprovals: change }) => {
    variables.since = String(change.seq);
    const id = change.action.id || change.approval.actionId;
    if (change.change === "created") {
      if (!items.has(id) && !removed.has(id)) session.api.card(id).then(keep, fail);
      return;
    }
    removed.add(id);
    items.delete(id);
    draw();
  };
  const stop = session.live.follow(SUBSCRIPTIONS.pending, variables, onChange, fail);
  // A card shows checks and params, which move while the action waits (evidence, an edit with an
  // approval): refetch a listed action's card on its other events; the pending feed says when it leaves.
  const refetch = (id) => session.api.card(id).then((fresh) => {
    if (!items.has(id) || fresh.status !== "pending_approval") return;
    items.set(id, fresh);
    cards.get(id)?.replaceWith(cards.set(id, card(fresh, session)).get(id));
  }, fail);
  const onUpdate = ({ actionUpdated: { action: { id } } }) => items.has(id) && refetch(id);
  const stopUpdates = session.live.follow(SUBSCRIPTIONS.action, { id: null }, onUpdate, fail);
  // that feed has no `since`: after a drop, refetch every card (the pending feed replays the rest)
  const stopCatchingUp = session.live.onReconnect(() => [...items.keys()].forEach(refetch));
  session.api.pending().then((approvals) => {
    for (const approval of approvals) keep(approval.action);
    draw();
  }, fail);

  const clock = setInterval(() => retime(list), 15_000);
  return () => {
    clearInterval(clock);
    stop();
    stopUpdates();
    stopCatchingUp();
  };
}

/**
 * One pending action: what, who, on what, key params, checks, age and time left, and why this key
 * may not decide it where the server says so (`decisionBarred`, as the action page shows it).
 */
function card(action, session) {
  const href = `/console/approve/${action.id}`;
  const required = action.checks.filter((c) => c.required);
  const barred = session.can("approvals:write") ? action.decisionBarred : null;
  return h("li", { class: barred ? "card barred" : "card", "data-action-id": action.id },
    h("div", { class: "card-head" },
      h("a", { class: "card-title", href }, h("span", { class: "type" }, action.type)),
      barred ? h("span", { class: "badge s-barred" }, h("span", { "aria-hidden": "true" }, "⊘"), " Not yours to decide")
        : readiness(required)),
    barred ? h("p", { class: "barred-why" }, `You may not decide this: ${barred}.`) : null,
    h("p", { class: "meta" },
      h("span", {}, actorLine(action.actor)),
      action.target ? [" → ", h("span", { class: "target" }, action.target)] : null),
    keyParams(action.params),
    required.length
      ? h("ul", { class: "checks", "aria-label": "Required checks" }, required.map(check))
      : h("p", { class: "muted small" }, "No required checks"),
    h("div", { class: "card-foot" },
      h("p", { class: "times" },
        h("span", { class: "nowrap" }, "Proposed ", ago(action.createdAt)),
        action.expiresAt ? h("span", { class: "nowrap left" }, until(action.expiresAt)) : null),
      barred
        ? h("a", { class: "button small quiet", href, "aria-label": `View ${action.type} ${action.id}` }, "View →")
        : h("a", { class: "button small", href, "aria-label": `Review ${action.type} ${action.id}` }, "Review →")));
}

/** Whether a human may approve now, or which required checks are still missing. */
function readiness(required) {
  const missing = required.filter((c) => c.status !== "passed").length;
  if (!missing) return h("span", { class: "badge s-passed" }, h("span", { "aria-hidden": "true" }, "✓"), " Ready to decide");
  const text = required.length === 1 ? "1 check missing" : `${missing} of ${required.length} checks missing`;
  return h("span", { class: "badge s-pending" }, h("span", { "aria-hidden": "true" }, "○"), ` ${text}`);
}
