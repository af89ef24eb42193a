// Building the page from data without ever parsing it as HTML: every value lands as text.

/** An element with attributes (`on*` functions become listeners) and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child !== undefined && child !== null && child !== false));
  return element;
}

/** A list section: a heading with how many there are, and the items or a line saying there are none. */
export function section(id, title, items, empty, count = items.length) {
  return h(
    "section",
    { class: "card", id, "aria-labelledby": `${id}-title` },
    h("h3", { id: `${id}-title` }, `${title} (${count})`),
    items.length ? h("ul", {}, items) : h("p", { class: "empty" }, empty),
  );
}

/** Put `node` in place of what `root` shows, keeping what the person was doing: the value of every
 * control with an id, and the focus (a panel redraws on every event; a half-made choice must survive). */
export function replace(root, node) {
  const values = new Map([...root.querySelectorAll("select[id], input[id]")].map((c) => [c.id, c.value]));
  const focused = root.contains(document.activeElement) ? document.activeElement.id : "";
  root.replaceChildren(node);
  for (const [id, value] of values) {
    const control = document.getElementById(id);
    if (control) control.value = value;
  }
  if (focused) document.getElementById(focused)?.focus();
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export function time(iso) {
  return iso ? h("time", { datetime: iso }, clock.format(new Date(iso))) : "";
}

export function isToday(iso) {
  return Boolean(iso) && new Date(iso).toDateString() === new Date().toDateString();
}
