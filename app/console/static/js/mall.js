// A mall live: cars inside by section, open issues by state (assigned from the page), who is clocked in
// at each shop, and today's showings with the seats left.
import { h, replace, section, time } from "./dom.js";

const CLOSED = new Set(["resolved", "closed"]);
const STATES = ["open", "reopened", "assigned", "in_progress"];

export async function mallPanel({ api, live, root, place, say }) {
  const cars = new Map();
  const issues = new Map();
  const shifts = new Map();
  const showings = new Map();
  const shops = new Map();
  let staff = [];

  async function load() {
    const today = new Date().toISOString().slice(0, 10);
    const [inside, open, working, overview, shopList, people] = await Promise.all([
      api.all("/v1/car-visits", { mall_id: place.id, inside: true }),
      api.all("/v1/issues", { mall_id: place.id }, 5),
      api.all("/v1/attendance", { mall_id: place.id, from: today }, 5),
      api.get(`/v1/malls/${place.id}/overview`),
      api.all("/v1/shops", { mall_id: place.id }, 5),
      api.all(`/v1/malls/${place.id}/employees`, {}, 5),
    ]);
    cars.clear();
    inside.forEach((car) => cars.set(car.id, car));
    issues.clear();
    open.forEach((issue) => issues.set(issue.id, issue));
    shifts.clear();
    working.forEach((shift) => shifts.set(shift.id, shift));
    showings.clear();
    overview.showings_today.forEach((showing) => showings.set(showing.id, showing));
    shopList.forEach((shop) => shops.set(shop.id, shop.name));
    const seen = new Map(people.map((holder) => [holder.user_id, holder.name]));
    staff = [...seen].map(([id, name]) => ({ id, name }));
    draw();
  }

  function apply({ type, data }) {
    if (type === "car_entered") cars.set(data.id, data);
    else if (type === "car_exited" || type === "car_visit_deleted") cars.delete(data.id);
    else if (type === "car_visit_corrected" && !data.exited_at) cars.set(data.id, data);
    else if (type === "issue_deleted") issues.delete(data.id);
    else if (type.startsWith("issue_") || type === "model_issue_detected") issues.set(data.id, data);
    else if (type === "attendance_updated") shifts.set(data.id, data);
    else if (type === "showing_updated") showings.set(data.id, data);
    draw();
  }

  async function assign(issue, select, button) {
    if (!select.value) return say("Choose someone to assign.");
    button.disabled = true;
    try {
      issues.set(issue.id, await api.post(`/v1/issues/${issue.id}/assign`, { user_ids: [select.value] }));
      draw();
    } catch (error) {
      say(error.message);
      button.disabled = false;
    }
  }

  function issueRow(issue) {
    const who = issue.assignees.map((id) => staff.find((s) => s.id === id)?.name ?? "someone").join(", ");
    const pick = h("select", { id: `assign-${issue.id}`, "aria-label": `Assign ${issue.issue_type} to` },
      h("option", { value: "" }, "Assign to…"),
      staff.map((person) => h("option", { value: person.id }, person.name)));
    const button = h("button", { type: "button", id: `assign-now-${issue.id}`, onclick: () => assign(issue, pick, button) }, `Assign ${issue.issue_type}`);
    return h("li", { "data-issue": issue.id },
      h("span", { class: "what" }, issue.issue_type, h("small", {}, issue.details, issue.location ? ` · ${issue.location}` : "", who ? ` · with ${who}` : "")),
      h("span", { class: `tag ${issue.state}` }, issue.state.replace("_", " ")),
      pick, button);
  }

  function draw() {
    const bySection = new Map();
    for (const car of cars.values()) bySection.set(car.section, [...(bySection.get(car.section) ?? []), car]);
    const sections = [...bySection].sort(([a], [b]) => a.localeCompare(b)).map(([name, inSection]) =>
      h("li", { "data-section": name }, h("span", { class: "what" }, `Section ${name}`,
        h("small", {}, inSection.map((car) => car.plate).sort().join(", "))), h("strong", {}, String(inSection.length))));
    const open = [...issues.values()].filter((issue) => !CLOSED.has(issue.state))
      .sort((a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state) || b.created_at.localeCompare(a.created_at));
    const counts = STATES.map((state) => [state, open.filter((issue) => issue.state === state).length]).filter(([, n]) => n);
    const atShops = new Map();
    for (const shift of shifts.values()) {
      if (shift.clock_out_at) continue;
      const where = shift.shop_id ? (shops.get(shift.shop_id) ?? "A shop") : "The mall";
      atShops.set(where, [...(atShops.get(where) ?? []), shift.user_name]);
    }
    const working = [...atShops].sort(([a], [b]) => a.localeCompare(b)).map(([where, names]) =>
      h("li", {}, h("span", { class: "what" }, where, h("small", {}, names.sort().join(", "))), h("strong", {}, String(names.length))));
    const today = [...showings.values()].sort((a, b) => a.starts_at.localeCompare(b.starts_at)).map((showing) =>
      h("li", { "data-showing": showing.id }, h("span", { class: "what" }, showing.movie_name, h("small", {}, "starts ", time(showing.starts_at))),
        h("span", { class: "tag" }, `${showing.seats_left} of ${showing.seats} seats left`)));
    replace(root, h("div", { class: "panels" },
      section("cars", "Cars inside", sections, "No cars inside.", cars.size),
      h("section", { class: "card", id: "issues", "aria-labelledby": "issues-title" },
        h("h3", { id: "issues-title" }, `Open issues (${open.length})`),
        counts.length ? h("p", { class: "hint" }, counts.map(([state, n]) => `${n} ${state.replace("_", " ")}`).join(" · ")) : null,
        open.length ? h("ul", {}, open.map(issueRow)) : h("p", { class: "empty" }, "No open issues.")),
      section("clocked-in", "Clocked in", working, "Nobody is clocked in."),
      section("showings", "Showings today", today, "No showings today.")));
  }

  const entry = await live.watch("mall", place.id, { load, event: apply, refused: () => say("You may not watch this mall.") });
  return () => live.unwatch(entry);
}
