// Check-ins written on this device wait here until the server has them. Each keeps the
// Idempotency-Key and body it was written with, so however often it is retried (after a
// reload, from two tabs, after a lost answer) the server records it once.

import { ApiProblem, Offline, call, rel } from "./api.js";
import { session } from "./session.js";

const storageKey = () => `attune.outbox.${session.memberId()}`;

export function pending() {
  try {
    return JSON.parse(localStorage.getItem(storageKey())) || [];
  } catch {
    return [];
  }
}

function save(items) {
  localStorage.setItem(storageKey(), JSON.stringify(items));
}

function drop(key) {
  save(pending().filter((item) => item.key !== key));
}

/** Keep a check-in before sending it, so closing the page or losing the network loses nothing. */
export function keep(rid, key, body) {
  save([...pending(), { rid, key, body, path: `${rel(rid)}/checkins` }]);
}

function retryLater(error) {
  return error instanceof Offline
    || (error instanceof ApiProblem
      && (error.status >= 500 || error.status === 429 || error.code === "request_in_progress"));
}

/** Send one kept check-in; true when the server has it (or refused it for good). */
async function sendOne(item, refused) {
  try {
    await call("POST", item.path, { body: item.body, key: item.key });
    drop(item.key);
    return true;
  } catch (error) {
    if (retryLater(error)) return false;
    drop(item.key);
    refused(item, error);
    return true;
  }
}

let running = null;

/**
 * Send every kept check-in, oldest first; stops at the first that must wait. One flush at a
 * time in this tab, and (where the browser offers Web Locks) across tabs too.
 */
export function flush(refused = () => {}) {
  if (!session.token()) return Promise.resolve(0);
  running ??= (async () => {
    const work = async () => {
      let sent = 0;
      for (const item of pending()) {
        if (!(await sendOne(item, refused))) break;
        sent += 1;
      }
      return sent;
    };
    try {
      return navigator.locks ? await navigator.locks.request("attune-outbox", work) : await work();
    } finally {
      running = null;
    }
  })();
  return running;
}

/** Write a check-in: kept first, then sent; "sent", "queued" or throws the server's refusal. */
export async function submitCheckin(rid, key, body) {
  keep(rid, key, body);
  let refusal = null;
  await flush((item, error) => { if (item.key === key) refusal = error; });
  if (refusal) throw refusal;
  return pending().some((item) => item.key === key) ? "queued" : "sent";
}
