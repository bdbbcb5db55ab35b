// The signed-in reviewer: the API key lives in this tab's sessionStorage only (never a URL, a
// cookie or local storage), so closing the tab or signing out forgets it.

import { Api, can, openLive } from "./graphql.js";

const STORAGE_KEY = "gatehouse.console.apiKey";

/** The key this tab signed in with, if any. */
export function storedKey() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the key is kept in memory by the Session only
  }
}

function store(key) {
  try {
    if (key) sessionStorage.setItem(STORAGE_KEY, key);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: nothing was kept
  }
}

/** Forget the kept key (it was refused). */
export function forgetKey() {
  store(null);
}

/** A signed-in tab: the key's API, who it is, and the one live connection. */
export class Session {
  constructor(key, viewer, onStatus) {
    this.api = new Api(key);
    this.viewer = viewer;
    this.scopes = viewer.apiKey.scopes;
    this.live = openLive(key, onStatus);
  }

  /** Check `key` with the server (a `viewer` query), then keep it for this tab. */
  static async start(key, onStatus) {
    const viewer = await new Api(key).viewer();
    store(key);
    return new Session(key, viewer, onStatus);
  }

  can(scope) {
    return can(this.scopes, scope);
  }

  /** Forget the key and close the WebSocket. */
  end() {
    store(null);
    this.live.close();
    this.api.key = "";
  }
}
