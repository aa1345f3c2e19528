// The public HTTP API, and nothing else: JSON in, JSON or problem+json out.

import { session } from "./session.js";

export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiProblem";
    this.status = status;
    this.problem = problem;
  }
  get code() { return this.problem.code; }
}

export class Offline extends Error {
  constructor() {
    super("offline");
    this.name = "Offline";
  }
}

/** A random key for Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function signal(name, detail) {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

/**
 * One request. Every POST carries an Idempotency-Key (a fresh one unless given), so a
 * retried submission is never recorded twice. Throws Offline when the server can't be
 * reached and ApiProblem for an error answer.
 */
export async function call(method, path, { body, key, token = session.token() } = {}) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method === "POST") headers["idempotency-key"] = key || newKey();
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit",
    });
  } catch {
    signal("attune:offline");
    throw new Offline();
  }
  signal("attune:online");
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: "The server sent an answer we could not read." };
  }
  if (!response.ok) {
    if (response.status === 401 && token) signal("attune:signed-out");
    if (response.status >= 500) signal("attune:offline");
    throw new ApiProblem(response.status, data || {});
  }
  return data;
}

/** The relationship's part of the API. */
export const rel = (rid) => `/v1/relationships/${encodeURIComponent(rid)}`;

/** A feature the server does not offer yet answers 404 for a path we know is ours. */
export function missing(error) {
  return error instanceof ApiProblem && (error.status === 404 || error.status === 405);
}
