// One action (the approvalUrl): what it is, its params, evidence, matched policies and history,
// and the decision. It follows `actionUpdated(id)` and reloads when someone else decides it
// meanwhile. Reading it needs actions:read; its approval and policies show where the key may read them.

import { SUBSCRIPTIONS } from "./graphql.js";
import {
  actorLine, ago, append, badge, check, compact, empty, h, json, localTime, notice, replace, retime, section, until,
} from "./render.js";

// setTimeout's longest delay (about 24.8 days): a later deadline re-arms the timer when it fires
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

export function mount(root, session, { params: [actionId] }) {
  const reads = { withApproval: session.can("approvals:read"), withPolicies: session.can("policies:read") };
  const drafts = { comment: "", reason: "" };
  let shown = null; // the status on screen
  let ownDecision = null; // set while this tab's own approve/reject is in flight
  let note = null;
  let mounted = true; // the view is shared: an answer arriving after the reviewer moved on draws nothing
  let deadline = null; // redraws when a pending action's expiresAt arrives while the page is open

  const load = async () => {
    let action;
    try {
      action = await session.api.action(actionId, reads);
    } catch (error) {
      if (!mounted) return;
      const text = error.code === "NOT_FOUND" ? `No action ${actionId} in ${session.viewer.organization.name}.` : error.message;
      replace(root, h("div", { class: "view-head" }, h("h1", {}, "Action not available")), notice("error", text),
        h("p", {}, h("a", { href: "/console/" }, "← Back to pending approvals")));
      return;
    }
    if (!mounted) return;
    if (shown === "pending_approval" && action.status !== "pending_approval" && !ownDecision) {
      note = notice("warning", `While you were looking, this action was ${action.status}`
        + `${action.decidedBy ? ` by ${who(action.decidedBy, session)}` : ""}.`);
    } else if (shown === "pending_approval" && action.status === "pending_approval" && !ownDecision
      && JSON.stringify(action.params) !== JSON.stringify(currentParams)) {
      // the params on screen (and so the ones an approval sends) change: never silently
      const by = [...action.history].reverse().find((entry) => entry.detail && "edited" in entry.detail)?.by;
      note = notice("warning", `While you were looking, the params were edited${by ? ` by ${who(by, session)}` : ""}: `
        + "the ones shown now are new. Read them again before you approve.");
    }
    shown = action.status;
    draw(action);
  };

  const decide = async (verb, text) => {
    ownDecision = verb;
    try {
      if (verb === "approve") await session.api.approve(currentApproval, text, currentParams);
      else await session.api.reject(currentApproval, text);
      note = notice("info", verb === "approve" ? "You approved this action." : "You rejected this action.");
      drafts.comment = drafts.reason = "";
    } catch (error) {
      note = notice("error", error.message);
    }
    await load();
    ownDecision = null;
    if (mounted) root.querySelector(".decision h2")?.focus();
  };

  let currentApproval = null;
  let currentParams = null; // the params on screen: approving them fails if another reviewer edited them since
  const draw = (action) => {
    clearTimeout(deadline);
    const left = action.status === "pending_approval" && action.expiresAt ? Date.parse(action.expiresAt) - Date.now() : 0;
    if (left > 0) deadline = setTimeout(() => mounted && draw(action), Math.min(left + 1, LONGEST_TIMEOUT_MS));
    currentApproval = action.approvalId;
    currentParams = action.params;
    replace(root,
      h("p", { class: "crumbs" }, h("a", { href: "/console/" }, "← Pending approvals")),
      h("div", { class: "view-head" }, h("h1", {}, h("span", { class: "type" }, action.type)), badge(action.status)),
      h("p", { class: "meta" }, h("code", {}, action.id), " · ", actorLine(action.actor),
        action.target ? [" → ", h("span", { class: "target" }, action.target)] : null,
        " · proposed ", ago(action.createdAt),
        action.status === "pending_approval" && action.expiresAt ? [" · ", until(action.expiresAt)] : null),
      note,
      h("div", { class: "columns" },
        h("div", { class: "main-col" },
          proposedBecause(action),
          named("params", section("Params", json(action.params))),
          action.originalParams ? named("original-params",
            section("Proposed params (a reviewer edited them)", json(action.originalParams))) : null,
          named("evidence", evidence(action)),
          named("history", history(action, session))),
        h("aside", { class: "side-col" },
          named("decision", decision(action, session, drafts, decide)),
          named("details", details(action)),
          named("policies", policies(action)))));
  };

  const onEvent = (data) => data.actionUpdated.action.id === actionId && load();
  const fail = (error) => mounted && root.prepend(notice("error", `Live updates stopped: ${error.message}`));
  if (!session.can("actions:read")) {
    replace(root, h("div", { class: "view-head" }, h("h1", {}, "Action not available")),
      notice("warning", "This key lacks the actions:read scope: it cannot show actions. "
        + "A reviewer's key needs approvals:write and actions:read."));
    return () => {};
  }
  const stop = session.live.follow(SUBSCRIPTIONS.action, { id: actionId }, onEvent, fail);
  const stopCatchingUp = session.live.onReconnect(() => load()); // events sent while the socket was down are lost
  const refresh = () => document.visibilityState === "visible" && shown === "pending_approval" && load();
  document.addEventListener("visibilitychange", refresh);
  const clock = setInterval(() => retime(root), 15_000);
  replace(root, h("p", { class: "muted" }, "Loading…"));
  load();
  return () => {
    mounted = false;
    clearTimeout(deadline);
    stop();
    stopCatchingUp();
    clearInterval(clock);
    document.removeEventListener("visibilitychange", refresh);
  };
}

/** Tag a panel so the phone layout can order it (read, then decide, then the rest). */
function named(name, panel) {
  panel.classList.add(`panel-${name}`);
  return panel;
}

function who(keyId, session) {
  return keyId === session.viewer.apiKey.id ? `${keyId} (this key)` : keyId;
}

/** The decision: approve and reject forms while pending, else who decided and when. */
function decision(action, session, drafts, decide) {
  if (action.status !== "pending_approval") return decided(action, session);
  const writable = session.can("approvals:write");
  const missing = action.checks.filter((c) => c.required && c.status !== "passed");
  const blockers = [];
  if (!writable) blockers.push(`This key is read-only (${session.scopes.join(", ")}): deciding needs approvals:write.`);
  // the server's reason this key may not decide under the rule: it would answer 403 to both verbs
  const barred = writable && action.decisionBarred ? `This key may not decide it: ${action.decisionBarred}.` : null;
  if (barred) blockers.push(barred);
  const counted = action.review?.approvedBy.some((vote) => vote.keyId === session.viewer.apiKey.id);
  if (counted && !barred) blockers.push("This key's approval is counted: the others decide the rest.");
  if (missing.length) {
    blockers.push(`Approve is disabled until every required check has passed: ${missing.map((c) => `${c.name} (${c.status === "pending" ? "missing" : c.status})`).join(", ")}.`);
  }
  // past its deadline the server refuses both verbs (409) even before the expiry worker closes it
  const expired = action.expiresAt && Date.parse(action.expiresAt) <= Date.now()
    ? `This action expired at ${localTime(action.expiresAt)}: `
      + "its deadline passed, so it can no longer be approved or rejected."
    : null;
  const approveWhy = h("p", { id: "approve-why", class: "why" }, expired ?? blockers.join(" "));
  const rejectWhy = h("p", { id: "reject-why", class: "why" }, expired ?? (writable ? barred ?? "" : blockers[0]));
  const approve = form({
    name: "comment", label: "Comment (optional)", value: drafts.comment, button: "Approve", kind: "approve",
    disabled: Boolean(expired) || blockers.length > 0, readOnly: !writable, why: approveWhy,
    onInput: (v) => (drafts.comment = v), onSubmit: (text) => decide("approve", text),
  });
  const reject = form({
    name: "reason", label: "Reason (required)", value: drafts.reason, button: "Reject", kind: "reject", required: true,
    disabled: Boolean(expired) || !writable || Boolean(barred), readOnly: !writable, why: rejectWhy,
    onInput: (v) => (drafts.reason = v),
    onSubmit: (text) => decide("reject", text),
  });
  return h("section", { class: "panel decision" }, h("h2", { tabindex: "-1" }, "Decision"),
    action.review ? progress(action.review, session) : null,
    h("div", { class: "decide" }, approve, reject));
}

/** A quorum's progress: approvals counted of those required, by whom, and who may still approve. */
function progress(review, session) {
  const by = review.approvedBy.map((vote) => who(vote.keyId, session));
  const waiting = review.waitingFor === null ? "any key with approvals:write" : review.waitingFor.map((k) => who(k, session)).join(", ");
  return h("div", { class: "quorum" },
    h("p", {}, h("strong", {}, `${review.approvalsReceived} of ${review.approvalsRequired}`), " approvals counted",
      by.length ? [" (", by.join(", "), ")"] : null, "."),
    review.approvalsRemaining > 0 ? h("p", { class: "muted" }, `${review.approvalsRemaining} more needed, from: ${waiting || "nobody"}.`) : null,
    review.quorumReachable ? null : notice("warning", "Fewer keys may still approve than approvals are needed: "
      + "this action cannot be approved and waits for its deadline. Reject it, or change the rule's approvers."),
    review.allowEdit ? h("p", { class: "muted" }, "An approver may edit the params; an edit drops the approvals counted before it.") : null);
}

function form({ name, label, value, button, kind, required, disabled, readOnly, why, onInput, onSubmit }) {
  const id = `decision-${name}`;
  const field = h("textarea", { id, name, rows: "3", required, maxlength: "10000", disabled: readOnly });
  field.value = value;
  field.addEventListener("input", () => onInput(field.value));
  const submit = h("button", { type: "submit", class: `button ${kind}`, disabled, "aria-describedby": why.textContent ? why.id : null },
    kind === "approve" ? "✓ " : "✕ ", button);
  const error = h("p", { class: "form-error", role: "alert" });
  const node = h("form", { method: "post", class: `decide-form ${kind}`, "aria-label": button, novalidate: true },
    h("label", { for: id }, label), field, h("div", { class: "form-row" }, submit), why.textContent ? why : null, error);
  node.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = field.value.trim();
    if (required && !text) {
      replace(error, `Give a reason to ${button.toLowerCase()}.`);
      field.focus();
      return;
    }
    submit.disabled = true;
    onSubmit(text);
  });
  return node;
}

/** A decided or expired action: the outcome, who decided and when, and what they wrote. */
function decided(action, session) {
  const approval = action.approval;
  const by = approval?.decidedBy ?? action.decidedBy;
  const when = approval?.decidedAt ?? action.decidedAt;
  const lines = [];
  if (action.status === "expired") {
    lines.push(h("p", {}, "Nobody decided before it expired", when ? [" at ", h("strong", {}, localTime(when))] : null, "."));
  } else {
    lines.push(h("p", {}, `${badgeWord(action.status)} by `, h("strong", {}, by ? who(by, session) : "policy"),
      when ? [" on ", h("strong", {}, localTime(when))] : null,
      approval?.approver ? [" (approver ", h("strong", {}, approval.approver), ")"] : null, "."));
  }
  if (approval?.comment) lines.push(h("blockquote", { class: "quote" }, h("span", { class: "label" }, "Comment"), approval.comment));
  const reason = approval?.reason ?? action.reason;
  if (reason) lines.push(h("blockquote", { class: "quote" }, h("span", { class: "label" }, "Reason"), reason));
  return h("section", { class: `panel decision decided s-${action.status}` },
    h("h2", { tabindex: "-1" }, "Decision"), h("div", { class: "outcome" }, badge(action.status)), ...lines);
}

const badgeWord = (status) => ({ approved: "Approved", rejected: "Rejected", cancelled: "Withdrawn" })[status] ?? status;

/** The proposer's own why, from its `proposed` history entry: an agent's (MCP's `reason`) or a
 * workflow approval step's (its config's `reason`). */
function proposedBecause(action) {
  const detail = action.history.find((entry) => entry.kind === "proposed")?.detail ?? {};
  const why = detail.workflowReason ?? detail.agentReason;
  if (typeof why !== "string" || !why) return null;
  const title = detail.workflowReason ? "Why the workflow asks" : "Why the agent asks";
  return named("why", section(title, h("p", { class: "why" }, why)));
}

/** The checks and every evidence submission from the history. */
function evidence(action) {
  const submitted = action.history.filter((entry) => entry.kind === "evidence_added");
  return section("Evidence",
    action.checks.length ? h("ul", { class: "checks", "aria-label": "Checks" }, action.checks.map(check)) : empty("No checks were asked for."),
    submitted.length
      ? h("ul", { class: "plain" }, submitted.map((entry) => h("li", {}, "Submitted ", ago(entry.createdAt),
        entry.by ? ` by ${entry.by}` : "", ": ",
        (entry.detail?.checks ?? []).map((c) => `${c.name} ${c.pass ? "passed" : "failed"}`).join(", "))))
      : h("p", { class: "muted small" }, "No evidence submitted yet."));
}

/** The audit trail, oldest first. */
function history(action, session) {
  return section("History", h("ol", { class: "timeline" }, action.history.map((entry) => {
    const detail = entry.detail && Object.keys(entry.detail).length ? compact(entry.detail, 160) : null;
    return h("li", {},
      h("div", { class: "timeline-head" }, h("strong", {}, entry.kind.replaceAll("_", " ")), " ", badge(entry.status)),
      h("div", { class: "muted small" }, ago(entry.createdAt), entry.by ? ` · by ${who(entry.by, session)}` : ""),
      detail ? h("code", { class: "detail" }, detail) : null);
  })));
}

function details(action) {
  const rows = [
    ["Action", action.id], ["Type", action.type], ["Actor", actorLine(action.actor)], ["Target", action.target],
    ["Agent", action.agentId], ["Client id", action.clientId], ["Approval", action.approvalId],
    ["Proposed", localTime(action.createdAt)], ["Expires", localTime(action.expiresAt)],
    ["Decided", localTime(action.decidedAt)],
  ];
  const list = h("dl", { class: "details" });
  for (const [name, value] of rows) if (value) append(list, [h("dt", {}, name), h("dd", {}, value)]);
  return section("Details", list);
}

function policies(action) {
  if (action.matchedPolicies === null) {
    return section("Matched policies", h("p", { class: "muted small" },
      `${action.policyIds.join(", ") || "None"} (this key lacks policies:read to show more)`));
  }
  if (!action.matchedPolicies.length) return section("Matched policies", empty("No policy matched."));
  return section("Matched policies", h("ul", { class: "plain policies" }, action.matchedPolicies.map((policy) =>
    h("li", {}, h("strong", {}, policy.name), h("span", { class: "muted" }, ` v${policy.version} · ${policy.mode}`),
      policy.description ? h("p", { class: "small" }, policy.description) : null,
      h("code", { class: "small" }, policy.id)))));
}
