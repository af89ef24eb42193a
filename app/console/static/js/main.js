// The console's shell: sign-in, the places the signed-in person may watch (from their roles), the panel of
// the chosen place, and the connection indicator. It uses only the public HTTP API and Socket.IO events.
import { Api } from "./api.js";
import { h } from "./dom.js";
import { Live } from "./live.js";
import { mallPanel } from "./mall.js";
import { shopPanel } from "./shop.js";
import { societyPanel } from "./society.js";

const STATES = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", catching_up: "Catching up…", offline: "Offline" };
// The places a panel is built for, with the roles that open each (their rooms' roles), best first.
const KINDS = {
  society: { refs: "societies", roles: ["society_admin", "guard"], panel: societyPanel, describe: "Society" },
  mall: { refs: "malls", roles: ["mall_admin", "security"], panel: mallPanel, describe: "Mall" },
  shop: { refs: "shops", roles: ["shop_manager", "employee"], panel: shopPanel, describe: "Shop" },
};

const $ = (id) => document.getElementById(id);
const api = new Api();
let live = null;
let places = [];
let closePanel = null;

function say(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
}

function show(view) {
  for (const id of ["sign-in-view", "places-view", "place-view"]) $(id).hidden = id !== view;
}

function signedOut(message) {
  leavePlace();
  live?.close();
  live = null;
  $("who").textContent = "";
  $("sign-out").hidden = true;
  $("connection").dataset.state = "offline";
  $("connection").textContent = STATES.offline;
  say(message);
  show("sign-in-view");
  $("email").focus();
}

async function loadPlaces() {
  const me = await api.get("/v1/profile/me");
  $("who").textContent = `Signed in as ${me.user.name}`;
  const found = new Map();
  const add = (kind, id, name, role) => {
    const known = found.get(id);
    const rank = (r) => (r === "admin" ? -1 : KINDS[kind].roles.indexOf(r));
    if (!known || rank(role) < rank(known.role)) found.set(id, { kind, id, name: name ?? KINDS[kind].describe, role });
  };
  for (const [kind, { refs, roles }] of Object.entries(KINDS)) {
    for (const ref of me[refs]) if (roles.includes(ref.role)) add(kind, ref.id, ref.name, ref.role);
  }
  // An admin watches every place; a mall's admins its shops too (the shop rooms let them in).
  const admin = me.roles.some((g) => g.role === "admin");
  if (admin) {
    for (const society of await api.all("/v1/societies", {}, 5)) add("society", society.id, society.name, "admin");
    for (const mall of await api.all("/v1/malls", {}, 5)) add("mall", mall.id, mall.name, "admin");
  }
  const malls = admin ? [...found.values()].filter((p) => p.kind === "mall") : me.malls.filter((m) => m.role === "mall_admin");
  for (const mall of malls) {
    for (const shop of await api.all("/v1/shops", { mall_id: mall.id }, 5)) add("shop", shop.id, shop.name, admin ? "admin" : "mall_admin");
  }
  places = [...found.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

function drawPlaces() {
  $("places").replaceChildren(
    ...places.map((place) =>
      h("li", {}, h("button", { type: "button", onclick: () => { location.hash = `${place.kind}/${place.id}`; } },
        place.name, h("small", {}, `${KINDS[place.kind].describe} · ${place.role.replace("_", " ")}`)))),
  );
  if (!places.length) $("places").replaceChildren(h("li", { class: "empty" }, "You hold no role on a place this console shows."));
}

function leavePlace() {
  closePanel?.();
  closePanel = null;
  $("panel").replaceChildren();
}

async function route() {
  leavePlace();
  if (!live) return;
  const [kind, id] = location.hash.slice(1).split("/");
  const place = places.find((p) => p.kind === kind && p.id === id);
  if (!place) {
    drawPlaces();
    show("places-view");
    return;
  }
  $("place-title").textContent = `${place.name}`;
  show("place-view");
  $("panel").replaceChildren(h("p", { class: "empty" }, "Loading…"));
  closePanel = await KINDS[kind].panel({ api, live, root: $("panel"), place, say });
}

async function personal({ type, data }) {
  if (type !== "role_revoked" && type !== "role_granted") return;
  await loadPlaces();
  const [kind, id] = location.hash.slice(1).split("/");
  if (type === "role_revoked" && kind && !places.some((p) => p.kind === kind && p.id === id)) {
    say(`Your ${data.role.replace("_", " ")} role here was taken away.`);
    location.hash = "";
  } else if (!kind) drawPlaces();
}

async function start() {
  say("");
  await loadPlaces();
  $("sign-out").hidden = false;
  live = new Live(api, {
    onState: (state) => { $("connection").dataset.state = state; $("connection").textContent = STATES[state]; },
    onEnded: signedOut,
    onPersonal: personal,
  });
  await route();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const formElement = event.currentTarget;
  const form = new FormData(formElement);
  $("sign-in-error").textContent = "";
  try {
    await api.signIn(form.get("email"), form.get("password"));
    formElement.reset();
    await start();
  } catch (error) {
    $("sign-in-error").textContent = error.status === 401 ? "Wrong e-mail or password." : error.message;
  }
});

$("sign-out").addEventListener("click", async () => {
  await api.signOut().catch(() => {});
  signedOut("You have signed out.");
});

$("home").addEventListener("click", (event) => {
  event.preventDefault();
  location.hash = "";
});

window.addEventListener("hashchange", route);
api.onSignedOut = signedOut;

if (await api.resume()) await start();
else signedOut("");
