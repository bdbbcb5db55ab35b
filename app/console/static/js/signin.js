// Sign-in: the reviewer pastes an API key; it is checked with a `viewer` query before it is kept.

import { h, replace } from "./render.js";

/** Show the sign-in form; `onKey(key)` resolves on success or throws an error to show. */
export function mount(root, { onKey, message, target }) {
  const input = h("input", {
    id: "api-key", name: "apiKey", type: "password", autocomplete: "off", spellcheck: "false",
    required: true, placeholder: "sk_…", "aria-describedby": "signin-help signin-error",
  });
  const error = h("div", { id: "signin-error", class: "form-error", role: "alert" }, message ?? "");
  const button = h("button", { type: "submit", class: "button primary" }, "Sign in");
  const form = h("form", { method: "post", class: "signin-form", novalidate: true },
    h("label", { for: "api-key" }, "API key"), input, button, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      replace(error, "Paste an API key to sign in.");
      input.focus();
      return;
    }
    button.disabled = true;
    replace(error, "");
    try {
      await onKey(key);
    } catch (failure) {
      replace(error, failure.message);
      button.disabled = false;
      input.select();
      input.focus();
    }
  });
  replace(root, h("section", { class: "signin panel" },
    h("h1", {}, "Sign in to review approvals"),
    target ? h("p", { class: "lead" }, `Sign in to see ${target}.`) : null,
    h("div", { id: "signin-help" },
      h("p", {}, "Paste a Gatehouse API key. A key with ", h("code", {}, "approvals:write"),
        " can approve and reject; a read-only key (", h("code", {}, "*:read"), ") sees everything and decides nothing."),
      h("p", { class: "muted" }, "The key stays in this browser tab only: never in a URL, a cookie or local storage. "
        + "Signing out or closing the tab forgets it.")),
    form));
  input.focus();
  return () => {};
}
