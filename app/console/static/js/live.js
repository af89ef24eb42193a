// The console's one Socket.IO connection: it joins the rooms the panels watch, hands each event to its
// panel once (by event_id, as the contract asks of every client: delivery is at least once, and an event
// sent again after a fault may come after later ones), and after a drop rejoins each room and catches up
// through `sync` from the highest id it has seen before it says it is live again.
import { io } from "../vendor/socket.io.esm.min.js";

const RENEW_BEFORE_MS = 30_000;
const ACK_TIMEOUT_MS = 10_000;
const REMEMBERED = 5_000; // event ids kept per room to drop repeats

export class Live {
  constructor(api, { onState, onEnded, onPersonal }) {
    this.api = api;
    this.rooms = new Map();
    this.hooks = { onState, onEnded, onPersonal };
    this.connectedBefore = false;
    this.personalLast = 0;
    this.renewal = null;
    this.socket = io({ transports: ["websocket"], auth: (send) => send({ token: api.token }) });
    this.socket.on("connect", () => this._connected());
    this.socket.on("disconnect", (reason) => this._disconnected(reason));
    this.socket.on("connect_error", (error) => this._refused(error));
    this.socket.onAny((_type, payload) => this._deliver(payload));
    this._state("connecting");
  }

  /** Listen to a room: `load()` fetches what is there now over HTTP (events that arrive meanwhile wait and
   * are applied after it), `event(payload)` applies one event, `refused(error)` hears a refused join. */
  async watch(roomType, roomId, handlers) {
    const entry = { roomType, roomId, name: `${roomType}:${roomId}`, last: 0, seen: new Set(), held: null, ...handlers };
    this.rooms.set(entry.name, entry);
    if (this.socket.connected) await this._open(entry, false);
    return entry;
  }

  unwatch(entry) {
    this.rooms.delete(entry.name);
    if (this.socket.connected) this.socket.emit("leave_room", { room_type: entry.roomType, room_id: entry.roomId });
  }

  close() {
    clearTimeout(this.renewal);
    this.rooms.clear();
    this.socket.disconnect();
  }

  async _connected() {
    const again = this.connectedBefore;
    this.connectedBefore = true;
    this._renewLater();
    this._state(again ? "catching_up" : "live");
    for (const entry of this.rooms.values()) await this._open(entry, again);
    if (this.socket.connected) this._state("live");
  }

  async _open(entry, again) {
    entry.held = [];
    let ack;
    try {
      ack = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("join_room", { room_type: entry.roomType, room_id: entry.roomId });
    } catch {
      return; // the connection went; the next connect opens the room again
    }
    if (!ack?.ok) {
      entry.held = null;
      entry.refused?.(ack?.error ?? "bad_request");
      return;
    }
    try {
      if (again && entry.last > 0) await this._catchUp(entry);
      else await entry.load();
    } finally {
      const held = entry.held ?? [];
      entry.held = null;
      held.sort((a, b) => a.event_id - b.event_id).forEach((payload) => this._apply(entry, payload));
    }
  }

  async _catchUp(entry) {
    for (;;) {
      const page = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("sync", { room: entry.name, since: entry.last });
      if (!page?.ok) {
        await entry.load(); // the room's past is out of reach: start again from what is there now
        return;
      }
      page.events.forEach((payload) => this._apply(entry, payload));
      if (!page.more) return;
    }
  }

  _deliver(payload) {
    if (!payload || typeof payload.event_id !== "number") return;
    const entry = this.rooms.get(payload.room);
    if (entry === undefined) {
      if (payload.room?.startsWith("user:") && payload.event_id > this.personalLast) {
        this.personalLast = payload.event_id;
        this.hooks.onPersonal(payload);
      }
      return;
    }
    if (entry.held !== null) entry.held.push(payload);
    else this._apply(entry, payload);
  }

  _apply(entry, payload) {
    if (entry.seen.has(payload.event_id)) return;
    entry.seen.add(payload.event_id);
    if (entry.seen.size > REMEMBERED) entry.seen.delete(entry.seen.values().next().value);
    entry.last = Math.max(entry.last, payload.event_id);
    entry.event(payload);
  }

  _disconnected(reason) {
    clearTimeout(this.renewal);
    if (reason === "io client disconnect") return this._state("offline");
    if (reason === "io server disconnect") return this._reconnectSignedIn(); // closed by the server
    this._state("reconnecting");
  }

  _refused(error) {
    if (this.socket.active) return this._state("reconnecting"); // the network: the client retries by itself
    this._reconnectSignedIn();
  }

  /** The server closed or refused the socket (its token ran out, or the session ended): with a fresh token
   * it connects again; without one the session is over. */
  async _reconnectSignedIn() {
    this._state("reconnecting");
    try {
      await this.api.refresh();
    } catch {
      this._state("offline");
      this.hooks.onEnded("Your session has ended. Sign in again.");
      return;
    }
    this.socket.connect();
  }

  /** Renew the access token before it runs out, so the server keeps the socket open. */
  _renewLater() {
    clearTimeout(this.renewal);
    const wait = Math.max(5_000, this.api.expiresAt - Date.now() - RENEW_BEFORE_MS);
    this.renewal = setTimeout(async () => {
      try {
        await this.api.refresh();
        if (this.socket.connected) this.socket.emit("auth", { token: this.api.token });
        this._renewLater();
      } catch {
        this.hooks.onEnded("Your session has ended. Sign in again.");
      }
    }, wait);
  }

  _state(state) {
    this.hooks.onState(state);
  }
}
