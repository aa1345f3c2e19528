// Who is signed in, on this device. The token stays in this browser's storage so a
// check-in written offline can still be sent after a reload.

const KEY = "attune.session";
const REL = "attune.relationship";

function read() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {};
  } catch {
    return {};
  }
}

export const session = {
  token: () => read().token || null,
  memberId: () => read().memberId || null,
  start(token, memberId) {
    localStorage.setItem(KEY, JSON.stringify({ token, memberId }));
  },
  relationship: () => localStorage.getItem(REL),
  choose(rid) {
    if (rid) localStorage.setItem(REL, rid);
    else localStorage.removeItem(REL);
  },
  /** Forget the member on this device; `everything` also drops unsent check-ins. */
  end(everything = false) {
    const memberId = read().memberId;
    localStorage.removeItem(KEY);
    localStorage.removeItem(REL);
    if (everything && memberId) localStorage.removeItem(`attune.outbox.${memberId}`);
  },
};
