// The console's entry: sign-in, the live-connection indicator, and a router over History API
// paths (/console/, /console/approve/{actionId}, /console/activity, ...), one module per view.

import * as action from "./action.js";
import * as activity from "./activity.js";
import * as deliveries from "./deliveries.js";
import * as executions from "./executions.js";
import * as pending from "./pending.js";
import { h, replace } from "./render.js";
import { forgetKey, Session, storedKey } from "./session.js";
import * as signin from "./signin.js";

const ROUTES = [
  { path: /^\/console\/?$/, nav: "pending", view: pending, title: "Pending approvals" },
  { path: /^\/console\/approve\/([A-Za-z0-9_-]+)\/?$/, nav: "pending", view: action, title: "Action" },
  { path: /^\/console\/activity\/?$/, nav: "activity", view: activity, title: "Activity" },
  { path: /^\/console\/webhooks\/?$/, nav: "webhooks", view: deliveries, title: "Webhooks" },
  { path: /^\/console\/executions\/?$/, nav: "executions", view: executions, title: "Executions" },
];
const LIVE_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", refused: "Key refused" };

const view = document.getElementById("view");
let session = null;
let unmount = () => {};

function match(pathname) {
  for (const route of ROUTES) {
    const found = route.path.exec(pathname);
    if (found) return { route, params: found.slice(1) };
  }
  return null;
}

function showLive(state) {
  const live = document.getElementById("live");
  live.dataset.state = state;
  replace(document.getElementById("live-text"), LIVE_TEXT[state] ?? state);
  if (state === "refused") signOut("Gatehouse refused this key on the live connection: it may have been revoked.");
}

function showSession() {
  const signedIn = session !== null;
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("session").hidden = !signedIn;
  if (!signedIn) return;
  const { organization, apiKey } = session.viewer;
  replace(document.getElementById("who"),
    h("span", { class: "who-org" }, organization.name), " · ", h("span", { class: "who-key" }, apiKey.name),
    session.can("approvals:write") ? null : h("span", { class: "tag" }, "read-only"));
}

function render({ focus = false } = {}) {
  unmount();
  unmount = () => {};
  const found = match(location.pathname);
  if (session === null) {
    const target = found?.route.view === action ? `action ${found.params[0]}` : null;
    unmount = signin.mount(view, { onKey: signIn, target });
    document.title = "Sign in · Gatehouse";
    return;
  }
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === found?.route.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!found) {
    replace(view, h("section", { class: "panel" }, h("h1", {}, "Not found"),
      h("p", {}, "This page does not exist. "), h("a", { href: "/console/" }, "Back to pending approvals")));
    return;
  }
  document.title = `${found.route.title} · Gatehouse`;
  unmount = found.route.view.mount(view, session, { params: found.params, navigate }) ?? (() => {});
  if (focus) view.focus({ preventScroll: false });
}

async function signIn(key) {
  session = await Session.start(key, showLive);
  showSession();
  render({ focus: true });
}

function signOut(message) {
  if (session === null) return;
  session.end();
  session = null;
  unmount();
  unmount = () => {};
  showSession();
  unmount = signin.mount(view, { onKey: signIn, message });
}

/** Go to a console path without reloading. */
export function navigate(path) {
  history.pushState(null, "", path);
  render({ focus: true });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href^='/console']");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  if (link.getAttribute("href") !== location.pathname) navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", () => render({ focus: true }));
document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out. The key was forgotten."));

async function start() {
  const key = storedKey();
  if (key) {
    try {
      await signIn(key);
      return;
    } catch (failure) {
      if (failure.code === "UNAUTHORIZED") forgetKey();
      session = null;
      unmount = signin.mount(view, { onKey: signIn, message: failure.message });
      return;
    }
  }
  render();
}

start();
