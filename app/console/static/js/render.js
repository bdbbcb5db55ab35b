// Rendering helpers. Everything a user typed or an agent sent becomes a text node: this module
// never parses a string as HTML, never sets an event-handler or style attribute, and only links
// inside the console.

const FORBIDDEN_ATTRIBUTE = /^(on|style$|srcdoc$|formaction$)/i;

/** An element: `h("a", {class: "x", href: "/console/"}, "text", child)`. Strings become text. */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (FORBIDDEN_ATTRIBUTE.test(name)) throw new Error(`attribute ${name} is not allowed`);
    if (name === "href" && !String(value).startsWith("/console")) throw new Error("links stay in the console");
    node.setAttribute(name, value === true ? "" : String(value));
  }
  return append(node, ...children);
}

/** Append strings (as text), nodes and arrays of them; skip null, undefined and false. */
export function append(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace the children of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, ...children);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "3 min", "2 h 5 min", "4 d 1 h" for a duration in milliseconds. */
export function duration(ms) {
  const value = Math.max(0, ms);
  if (value < MINUTE) return `${Math.floor(value / 1000)} s`;
  if (value < HOUR) return `${Math.floor(value / MINUTE)} min`;
  if (value < DAY) {
    const minutes = Math.floor((value % HOUR) / MINUTE);
    return `${Math.floor(value / HOUR)} h${minutes ? ` ${minutes} min` : ""}`;
  }
  const hours = Math.floor((value % DAY) / HOUR);
  return `${Math.floor(value / DAY)} d${hours ? ` ${hours} h` : ""}`;
}

/** The local date and time of an ISO timestamp, for titles and decided-at lines. */
export function localTime(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

const agoText = (ms) => (ms < MINUTE ? "just now" : `${duration(ms)} ago`);

/** `<time>` saying how long ago `iso` was ("5 min ago"), the exact time in its title. */
export function ago(iso, now = Date.now()) {
  const node = h("time", { datetime: iso, title: localTime(iso), "data-ago": iso });
  node.textContent = agoText(now - Date.parse(iso));
  return node;
}

// Past its deadline the server refuses a decision (409) until the expiry worker closes the action:
// "expiring now" read as though there was still time to decide.
const untilText = (left) => (left > 0 ? `${duration(left)} left` : "past its deadline");

/** `<time>` saying how long until `iso` ("23 h left"), or that it has passed. */
export function until(iso, now = Date.now()) {
  const node = h("time", { datetime: iso, title: localTime(iso), "data-until": iso });
  node.textContent = untilText(Date.parse(iso) - now);
  return node;
}

/** Refresh every `ago`/`until` under `root` (called by a view's clock). */
export function retime(root, now = Date.now()) {
  for (const node of root.querySelectorAll("[data-ago]")) node.textContent = agoText(now - Date.parse(node.dataset.ago));
  for (const node of root.querySelectorAll("[data-until]")) {
    node.textContent = untilText(Date.parse(node.dataset.until) - now);
  }
}

// Every status reads as a word and a symbol, never as colour alone.
const STATUS = {
  pending_approval: ["●", "Pending approval"],
  approved: ["✓", "Approved"],
  rejected: ["✕", "Rejected"],
  expired: ["◷", "Expired"],
  cancelled: ["⊘", "Cancelled"],
  passed: ["✓", "Passed"],
  failed: ["✕", "Failed"],
  pending: ["○", "Missing"],
  observed: ["◦", "Observed"],
  active: ["●", "Active"],
  succeeded: ["✓", "Succeeded"],
  dead: ["✕", "Dead"],
  completed: ["✓", "Completed"],
  running: ["▶", "Running"],
  waiting: ["‖", "Waiting"],
  cancelled: ["⊘", "Cancelled"],
  skipped: ["↷", "Skipped"],
};

/** A status badge: symbol and word, with a class per status for colour. */
export function badge(status) {
  const [symbol, label] = STATUS[status] ?? ["•", String(status ?? "unknown")];
  return h("span", { class: `badge s-${String(status).replace(/[^a-z_]/g, "")}` },
    h("span", { "aria-hidden": "true" }, symbol), " ", label);
}

/** A check's state: name, symbol and word, and "required" or "optional". */
export function check(item) {
  return h("li", { class: `check s-${item.status}` },
    badge(item.status), " ", h("span", { class: "check-name" }, item.name),
    item.required === false ? h("span", { class: "muted" }, " (optional)") : null,
    item.note ? h("span", { class: "check-note" }, ` — ${item.note}`) : null);
}

/** Who an actor is, as one line: "agent · billing-bot (openai)". */
export function actorLine(actor) {
  if (!actor) return "unknown actor";
  const name = actor.name ? ` · ${actor.name}` : "";
  const provider = actor.provider ? ` (${actor.provider})` : "";
  return `${actor.kind}${name}${provider}`;
}

/** A short, single-line form of any JSON value (params in a list). */
export function compact(value, limit = 80) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** The first few params as a definition list. */
export function keyParams(params, max = 4) {
  const entries = params && typeof params === "object" ? Object.entries(params) : [];
  if (!entries.length) return h("p", { class: "muted" }, "No params");
  const list = h("dl", { class: "params" });
  for (const [name, value] of entries.slice(0, max)) {
    append(list, [h("dt", {}, name), h("dd", {}, compact(value))]);
  }
  if (entries.length > max) append(list, [h("dt", { class: "muted" }, "…"), h("dd", { class: "muted" }, `${entries.length - max} more`)]);
  return list;
}

/** Any JSON value, indented, in a scrollable block. */
export function json(value) {
  return h("pre", { class: "json", tabindex: "0" }, JSON.stringify(value ?? null, null, 2));
}

/** A message box; `kind` is info, warning or error. */
export function notice(kind, ...text) {
  const role = kind === "error" ? "alert" : "status";
  return h("div", { class: `notice ${kind}`, role }, ...text);
}

/** A section with a heading. */
export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

/** "Previous" / "Next" buttons for cursor pages. */
export function pager({ label, hasPrevious, hasNext, onPrevious, onNext }) {
  const previous = h("button", { type: "button", class: "button quiet", disabled: !hasPrevious }, "← Newer");
  const next = h("button", { type: "button", class: "button quiet", disabled: !hasNext }, "Older →");
  previous.addEventListener("click", onPrevious);
  next.addEventListener("click", onNext);
  return h("nav", { class: "pager", "aria-label": label }, previous, next);
}

/**
 * Show pages of a connection in `into`, newest first, with a pager below. Returns the function that
 * unmounts it, as a view's mount does: a page answering after that (a newer filter asked since,
 * or the reviewer moved on) draws nothing.
 */
export function paged(into, label, fetchPage, draw) {
  const cursors = [null];
  let mounted = true;
  const show = async () => {
    replace(into, h("p", { class: "muted" }, "Loading…"));
    try {
      const page = await fetchPage(cursors.at(-1));
      if (!mounted) return;
      replace(into, draw(page.edges.map((edge) => edge.node)));
      if (cursors.length > 1 || page.pageInfo.hasNextPage) {
        into.append(pager({
          label, hasPrevious: cursors.length > 1, hasNext: page.pageInfo.hasNextPage,
          onPrevious: () => { cursors.pop(); show(); },
          onNext: () => { cursors.push(page.pageInfo.endCursor); show(); },
        }));
      }
    } catch (error) {
      if (mounted) replace(into, notice("error", error.message));
    }
  };
  show();
  return () => {
    mounted = false;
  };
}

/** The empty state of a list. */
export function empty(text) {
  return h("p", { class: "empty" }, text);
}
