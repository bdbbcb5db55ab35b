// The console's only door to Gatehouse: the public GraphQL API. Queries and mutations go over HTTP
// (`Authorization: Bearer`), subscriptions over graphql-transport-ws at /graphql through the
// vendored graphql-ws client (the key in `connection_init`). No other endpoint is used.

import { createClient } from "../vendor/graphql-ws-6.4.2.js";

/** A failed operation: `code` is Gatehouse's error code (UNAUTHORIZED, FORBIDDEN, CONFLICT, ...). */
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

const MESSAGES = {
  UNAUTHORIZED: "This API key was not accepted: it is missing, mistyped or revoked.",
  RATE_LIMITED: "Too many requests with this key. Wait a minute, then try again.",
  NETWORK: "Gatehouse cannot be reached. Check the connection and try again.",
};

/** Run one query or mutation with `key`; the `data`, or an ApiError. */
export async function request(key, query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(MESSAGES.NETWORK, "NETWORK");
  }
  const body = await response.json().catch(() => null);
  const code = body?.error ?? body?.errors?.[0]?.extensions?.code;
  if (!response.ok || !body || body.errors?.length) {
    const message = MESSAGES[code] ?? body?.errors?.[0]?.message ?? body?.message ?? `Gatehouse answered ${response.status}.`;
    throw new ApiError(message, code ?? "INTERNAL");
  }
  return body.data;
}

/** Whether `scopes` grant `needed`, as the server decides it (resolvers/access.py). */
export function can(scopes, needed) {
  if (scopes.includes("admin") || scopes.includes(needed)) return true;
  const [resource, verb] = needed.split(":");
  return verb === "read" && (scopes.includes("*:read") || scopes.includes(`${resource}:write`));
}

const ACTION_FIELDS = `
  id type target params status createdAt expiresAt decidedAt decidedBy reason approvalId approvalMode
  agentId clientId policyIds decisionBarred
  actor { kind name provider }
  checks { name status note required }`;

const ACTION_DETAIL = `${ACTION_FIELDS}
  originalParams
  review { approvalsRequired approvalsReceived approvalsRemaining quorumReachable approvedBy { keyId at } approvers
    waitingFor
    proposerMayApprove allowEdit }
  approval @include(if: $withApproval) { id status decidedBy approver reason comment createdAt decidedAt }
  matchedPolicies @include(if: $withPolicies) { id name description mode version }
  history { id kind status by detail createdAt }`;

const PAGE_INFO = "pageInfo { hasNextPage endCursor }";

const DOCUMENTS = {
  viewer: "query Viewer { viewer { organization { id name } apiKey { id name prefix scopes } } }",
  pending: `query Pending($after: String) { pendingApprovals(first: 100, after: $after) {
    edges { node { id createdAt action { ${ACTION_FIELDS} } } } ${PAGE_INFO} } }`,
  card: `query Card($id: ID!) { action(id: $id) { ${ACTION_FIELDS} } }`,
  action: `query Action($id: ID!, $withApproval: Boolean!, $withPolicies: Boolean!) {
    action(id: $id) { ${ACTION_DETAIL} } }`,
  approve: `mutation Approve($id: ID!, $comment: String, $expected: JSON) {
    approveAction(approvalId: $id, comment: $comment, expectedParams: $expected) { id status decidedBy decidedAt } }`,
  reject: `mutation Reject($id: ID!, $reason: String) {
    rejectAction(approvalId: $id, reason: $reason) { id status decidedBy decidedAt } }`,
  activity: `query Activity($status: String, $type: String, $after: String) {
    actions(status: $status, type: $type, first: 20, after: $after) { edges { node {
      id type status target createdAt decidedAt decidedBy reason actor { kind name provider } } } ${PAGE_INFO} } }`,
  webhooks: `query Webhooks($after: String) { webhooks(first: 10, after: $after) { edges { node {
    id name url events active disabledReason consecutiveFailures } } ${PAGE_INFO} } }`,
  deliveries: `query Deliveries($id: ID!, $after: String) { webhookDeliveries(webhookId: $id, first: 10, after: $after) {
    edges { node { id event status attempts lastStatusCode lastError createdAt deliveredAt nextAttemptAt } }
    ${PAGE_INFO} } }`,
  workflows: `query Workflows { workflows(first: 100) { edges { node { id name } } } }`,
  executions: `query Executions($after: String) { executions(first: 20, after: $after) { edges { node {
    id workflowId status error currentStep startedAt finishedAt } } ${PAGE_INFO} } }`,
  execution: `query Execution($id: ID!) { execution(id: $id) {
    id steps { position name type status attempts error startedAt finishedAt } } }`,
};

export const SUBSCRIPTIONS = {
  pending: `subscription PendingLive($since: String) { pendingApprovals(since: $since) {
    seq timestamp change approval { id actionId status } action { id type status } } }`,
  action: "subscription ActionLive($id: ID) { actionUpdated(id: $id) { seq event action { id status } } }",
};

const nodes = (connection) => connection.edges.map((edge) => edge.node);

/** The operations the console performs, bound to one API key. */
export class Api {
  constructor(key) {
    this.key = key;
  }

  run(name, variables) {
    return request(this.key, DOCUMENTS[name], variables);
  }

  async viewer() {
    return (await this.run("viewer")).viewer;
  }

  /** Every pending approval with its action (all pages, at most `limit`). */
  async pending(limit = 1000) {
    const items = [];
    let after = null;
    do {
      const page = (await this.run("pending", { after })).pendingApprovals;
      items.push(...nodes(page));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after && items.length < limit);
    return items;
  }

  /** One action as the pending list shows it. */
  async card(id) {
    return (await this.run("card", { id })).action;
  }

  /** One action with its history, and its approval and matched policies where the key may read them. */
  async action(id, { withApproval, withPolicies }) {
    const found = (await this.run("action", { id, withApproval, withPolicies })).action;
    return { approval: null, matchedPolicies: null, ...found };
  }

  /** `shownParams`: the params on screen; another reviewer's edit since makes it a CONFLICT. */
  approve(approvalId, comment, shownParams) {
    return this.run("approve", { id: approvalId, comment: comment || null, expected: shownParams ?? null });
  }

  reject(approvalId, reason) {
    return this.run("reject", { id: approvalId, reason });
  }

  async activity({ status, type, after }) {
    return (await this.run("activity", { status: status || null, type: type || null, after })).actions;
  }

  async webhooks(after) {
    return (await this.run("webhooks", { after })).webhooks;
  }

  async deliveries(webhookId, after) {
    return (await this.run("deliveries", { id: webhookId, after })).webhookDeliveries;
  }

  async workflowNames() {
    return new Map(nodes((await this.run("workflows")).workflows).map((w) => [w.id, w.name]));
  }

  async executions(after) {
    return (await this.run("executions", { after })).executions;
  }

  async execution(id) {
    return (await this.run("execution", { id })).execution;
  }
}

const isClose = (event) => typeof event?.code === "number";
const refused = (event) => isClose(event) && event.code === 4403;

/** Wait before reconnect attempt `n`: 0.5 s, 1 s, 2 s, then 4 s, with a little jitter. */
function backoff(n) {
  const ms = Math.min(500 * 2 ** n, 4000) + Math.random() * 250;
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One WebSocket for the signed-in tab, reconnecting for ever (but not after 4403, a refused key).
 * `onStatus` gets "connecting", "live", "reconnecting" or "refused".
 */
export function openLive(key, onStatus) {
  let closed = false;
  const reconnected = new Set(); // called once live again after a drop: what was missed meanwhile is gone
  const client = createClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: { apiKey: key },
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    retryWait: backoff,
    shouldRetry: (event) => !refused(event),
    onNonLazyError: (event) => onStatus(refused(event) ? "refused" : "reconnecting"),
    on: {
      connecting: (retrying) => onStatus(retrying ? "reconnecting" : "connecting"),
      connected: (_socket, _payload, wasRetry) => {
        onStatus("live");
        if (wasRetry) for (const listener of reconnected) listener();
      },
      closed: (event) => closed || onStatus(refused(event) ? "refused" : "reconnecting"),
    },
  });
  return {
    /**
     * Follow a subscription. `variables` is sent again, as it is then, each time graphql-ws
     * resubscribes after a reconnect: a caller that updates `variables.since` resumes from there.
     */
    follow(query, variables, onData, onError = () => {}) {
      return client.subscribe({ query, variables }, {
        next: (result) => (result.errors?.length ? onError(toError(result.errors)) : onData(result.data)),
        error: (error) => onError(Array.isArray(error) ? toError(error) : new ApiError("The live connection ended.", "CLOSED")),
        complete: () => {},
      });
    },
    /**
     * Call `listener` each time the connection is live again after a drop. A subscription without
     * `since` (actionUpdated) never gets the events published while it was down: reload then.
     * Returns the function that stops calling it.
     */
    onReconnect(listener) {
      reconnected.add(listener);
      return () => reconnected.delete(listener);
    },
    close() {
      closed = true;
      reconnected.clear();
      client.dispose();
    },
  };
}

function toError(errors) {
  return new ApiError(errors[0]?.message ?? "subscription failed", errors[0]?.extensions?.code ?? "INTERNAL");
}
