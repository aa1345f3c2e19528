// The live stream (Server-Sent Events) read with fetch, so the token travels in the
// Authorization header rather than in a URL. Resumes with Last-Event-ID after a break.

import { rel } from "./api.js";
import { session } from "./session.js";

function parse(block) {
  const event = { type: "message", data: "", id: null };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "event") event.type = value;
    else if (name === "data") event.data += (event.data ? "\n" : "") + value;
    else if (name === "id") event.id = value;
  }
  return event.data || event.id ? event : null;
}

/** Follow a relationship's stream until `stop()`; `onEvent({type, data})` per event. */
export function follow(rid, onEvent) {
  const controller = new AbortController();
  let lastId = null;
  let delay = 1000;

  async function once() {
    const headers = { accept: "text/event-stream", authorization: `Bearer ${session.token()}` };
    if (lastId) headers["last-event-id"] = lastId;
    const response = await fetch(`${rel(rid)}/stream`, { headers, signal: controller.signal, cache: "no-store" });
    if ([401, 403, 404].includes(response.status)) return false;
    if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
    delay = 1000;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      buffer = (buffer + value).replaceAll("\r\n", "\n").replaceAll("\r", "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (!event) continue;
        if (event.id) lastId = event.id;
        if (event.data) onEvent(event);
      }
    }
  }

  (async () => {
    while (!controller.signal.aborted) {
      try {
        if ((await once()) === false) return;
      } catch {
        if (controller.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 30000);
    }
  })();
  return () => controller.abort();
}
