// A shop live: the order board (new, preparing, ready, completed today) that staff move with a click,
// updated on every open console as orders move, and the ingredients that ran low.
import { h, replace, section, time } from "./dom.js";

const COLUMNS = [
  { id: "new", title: "New", statuses: ["pending", "paid"], empty: "No new orders." },
  { id: "preparing", title: "Preparing", statuses: ["preparing"], empty: "Nothing is being prepared." },
  { id: "ready", title: "Ready", statuses: ["ready"], empty: "Nothing is waiting to be collected." },
  { id: "completed", title: "Completed today", statuses: ["completed"], empty: "Nothing completed yet today." },
];
// The move a click makes, by the order's status (the staff's moves the server allows).
const NEXT = { paid: ["preparing", "Start"], preparing: ["ready", "Ready"], ready: ["completed", "Hand over"] };

function money(minor, currency) {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 100);
}

export async function shopPanel({ api, live, root, place, say }) {
  const orders = new Map();
  const low = new Map();

  async function load() {
    const today = new Date().toISOString().slice(0, 10);
    const [recent, stock] = await Promise.all([
      api.all("/v1/orders", { shop_id: place.id, from: today }),
      api.get(`/v1/shops/${place.id}/inventory`).catch(() => ({ items: [] })),
    ]);
    orders.clear();
    recent.forEach((order) => orders.set(order.id, order));
    low.clear();
    stock.items.filter((item) => item.quantity <= item.reorder_threshold).forEach((item) => low.set(item.id, item));
    draw();
  }

  function apply({ type, data }) {
    if (type.startsWith("order_") || type === "payment_received") orders.set(data.id, data);
    else if (type === "stock_low") low.set(data.id, data);
    draw();
  }

  async function move(order, to, button) {
    button.disabled = true;
    try {
      orders.set(order.id, await api.post(`/v1/orders/${order.id}/status`, { to }));
      draw();
    } catch (error) {
      say(error.message);
      button.disabled = false;
    }
  }

  function card(order) {
    const number = order.id.slice(0, 6).toUpperCase();
    const lines = order.items.map((item) => `${item.quantity} × ${item.name}`).join(", ");
    const next = NEXT[order.status];
    return h("li", { "data-order": order.id },
      h("span", { class: "what" }, `Order ${number}`, h("small", {}, lines), h("small", {}, money(order.total, order.currency), " · ", time(order.created_at))),
      order.status === "pending" ? h("span", { class: "tag pending" }, "awaiting payment") : null,
      next ? h("button", { type: "button", id: `move-${order.id}`, onclick: (event) => move(order, next[0], event.currentTarget) }, `${next[1]} order ${number}`) : null);
  }

  function draw() {
    const all = [...orders.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
    const columns = COLUMNS.map((column) =>
      section(`orders-${column.id}`, column.title, all.filter((order) => column.statuses.includes(order.status)).map(card), column.empty));
    const alerts = [...low.values()].sort((a, b) => a.name.localeCompare(b.name)).map((item) =>
      h("li", { "data-item": item.id }, h("span", { class: "what" }, item.name, h("small", {}, item.supplier ? `from ${item.supplier}` : "")),
        h("span", { class: "tag escalated" }, `${item.quantity} ${item.unit} left`)));
    replace(root, h("div", { class: "panels" }, columns, section("low-stock", "Running low", alerts, "Nothing is running low.")));
  }

  const entry = await live.watch("shop", place.id, { load, event: apply, refused: () => say("You may not watch this shop.") });
  return () => live.unwatch(entry);
}
