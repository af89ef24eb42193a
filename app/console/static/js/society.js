// A society live: who is at the gate and for which flat, who answered and when, who is inside, who is
// expected today, escalations, and (for its admins) new residents to approve.
import { h, isToday, replace, section, time } from "./dom.js";

const VISITOR_EVENTS = new Set([
  "visitor_request", "request_approved", "request_denied", "request_escalated",
  "expected_visitor", "invite_updated", "invite_cancelled",
]);
const VISIT_EVENTS = { visitor_checked_in: "checked_in", visitor_checked_out: "checked_out" };

export async function societyPanel({ api, live, root, place, say }) {
  const visitors = new Map();
  const requests = new Map();
  const flats = new Map();
  const admin = place.role === "society_admin" || place.role === "admin";

  async function flatName(flatId) {
    if (!flats.has(flatId)) {
      flats.set(flatId, api.get(`/v1/flats/${flatId}`).then(
        (flat) => `Flat ${flat.flat_number}, ${flat.block}, ${flat.complex}`,
        () => "A flat",
      ));
    }
    return flats.get(flatId);
  }

  async function load() {
    const today = new Date().toISOString().slice(0, 10);
    const [recent, expected, pending] = await Promise.all([
      api.get("/v1/visitors", { society_id: place.id, limit: 100 }),
      api.get(`/v1/society/${place.id}/expected-visitors`, { date: today }),
      admin ? api.get("/v1/resident-requests", { status: "pending", limit: 100 }) : { items: [] },
    ]);
    visitors.clear();
    for (const visitor of [...recent.items, ...expected.items]) visitors.set(visitor.id, visitor);
    requests.clear();
    for (const request of pending.items) if (request.society_id === place.id) requests.set(request.id, request);
    await render();
  }

  function apply(payload) {
    const { type, data } = payload;
    if (VISITOR_EVENTS.has(type)) visitors.set(data.id, { ...visitors.get(data.id), ...data });
    else if (type in VISIT_EVENTS) {
      const known = visitors.get(data.visitor_id) ?? { id: data.visitor_id, name: data.visitor_name, flat_id: data.flat_id };
      visitors.set(data.visitor_id, { ...known, status: VISIT_EVENTS[type], checkin_at: data.checkin_at });
    } else if (type.startsWith("resident_request")) {
      if (data.status === "pending") requests.set(data.id, data);
      else requests.delete(data.id);
    }
    render();
  }

  async function decide(request, verdict, button) {
    button.disabled = true;
    try {
      const decided = await api.post(`/v1/resident-requests/${request.id}/${verdict}`);
      requests.delete(decided.id);
      render();
    } catch (error) {
      say(error.message);
      button.disabled = false;
    }
  }

  let drawing = Promise.resolve();
  function render() {
    drawing = drawing.then(draw);
    return drawing;
  }

  async function draw() {
    const all = [...visitors.values()].sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""));
    const names = new Map(await Promise.all(all.map(async (v) => [v.id, await flatName(v.flat_id)])));
    const row = (visitor, ...extra) =>
      h("li", { "data-visitor": visitor.id },
        h("span", { class: "what" }, visitor.name, h("small", {}, names.get(visitor.id), visitor.purpose ? ` · ${visitor.purpose}` : "")),
        ...extra);
    const waiting = all.filter((v) => v.status === "pending").map((v) =>
      row(v, v.escalated_at ? h("span", { class: "tag escalated" }, "escalated") : h("span", { class: "tag pending" }, "waiting"), time(v.created_at)));
    const answered = all.filter((v) => (v.status === "accepted" || v.status === "denied") && isToday(v.responded_at)).map((v) =>
      row(v, h("span", { class: `tag ${v.status}` }, v.status === "accepted" ? "let in" : "turned away"),
        h("small", {}, `by ${v.responded_by_name ?? "a resident"} at `, time(v.responded_at))));
    const inside = all.filter((v) => v.status === "checked_in").map((v) => row(v, h("span", { class: "tag checked_in" }, "inside"), time(v.checkin_at)));
    const expected = all.filter((v) => v.status === "pre_approved" && isToday(v.expected_at)).map((v) => row(v, h("small", {}, "expected at "), time(v.expected_at)));
    const escalated = all.filter((v) => v.status === "pending" && v.escalated_at).map((v) => row(v, h("small", {}, "nobody answered since "), time(v.created_at)));
    const panels = [
      section("at-gate", "At the gate", waiting, "Nobody is waiting."),
      section("answered", "Answered today", answered, "No answers yet today."),
      section("inside", "Inside now", inside, "Nobody is inside."),
      section("expected", "Expected today", expected, "Nobody is expected today."),
      section("escalations", "Escalations", escalated, "No escalations."),
    ];
    if (admin) {
      const pending = [...requests.values()];
      const homes = new Map(await Promise.all(pending.map(async (r) => [r.id, await flatName(r.flat_id)])));
      const queue = pending.map((request) =>
        h("li", { "data-request": request.id },
          h("span", { class: "what" }, request.user_name, h("small", {}, `${request.relation} · ${homes.get(request.id)}`)),
          h("button", { type: "button", id: `approve-${request.id}`, onclick: (e) => decide(request, "approve", e.currentTarget) }, `Approve ${request.user_name}`),
          h("button", { type: "button", id: `reject-${request.id}`, class: "secondary", onclick: (e) => decide(request, "reject", e.currentTarget) }, `Reject ${request.user_name}`)));
      panels.push(section("residents", "New residents", queue, "No one is waiting for approval."));
    }
    replace(root, h("div", { class: "panels" }, panels));
  }

  const entry = await live.watch("society", place.id, { load, event: apply, refused: () => say("You may not watch this society.") });
  return () => live.unwatch(entry);
}
