// The web app's pure functions, run by Node's own test runner (no browser, no server).
import assert from "node:assert/strict";
import { test } from "node:test";

import { checkinBody } from "../../web/js/screens/today.js";
import { sentence, words } from "../../web/js/ui.js";

const NOW = new Date("2026-12-02T08:30:00Z");

test("a check-in leaves out what was not filled in and stays private unless shared", () => {
  const body = checkinBody({ mood: "4", connection: "7", visibility: "private", pillars: { emotional: "", physical: "3" },
    needs: undefined, note: "   " }, NOW);
  assert.deepEqual(body, { mood: 4, connection: 7, visibility: "private", pillars: { physical: 3 },
    occurred_at: "2026-12-02T08:30:00.000Z" });
});

test("a check-in keeps its needs, its trimmed note and the moment it was written", () => {
  const body = checkinBody({ mood: "2", connection: "3", visibility: "shared", needs: ["heard", "space"],
    note: " tired " }, NOW);
  assert.equal(body.note, "tired");
  assert.deepEqual(body.needs, ["heard", "space"]);
  assert.equal(body.occurred_at, NOW.toISOString());
});

test("a check-in without a mood has none, so the form can ask for it", () => {
  assert.equal("mood" in checkinBody({ mood: undefined, connection: "5", visibility: "private" }, NOW), false);
});

test("validation messages read as sentences", () => {
  assert.equal(sentence("String should have at least 10 characters"), "String should have at least 10 characters.");
  assert.equal(sentence("Field required"), "This is needed.");
  assert.equal(sentence("Value error, the end must come after the start"), "The end must come after the start.");
  assert.equal(sentence("Already a sentence."), "Already a sentence.");
  assert.equal(words("holding_hands"), "Holding hands");
});
