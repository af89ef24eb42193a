// HTTP to Gatehouse's public API as a browser does it: signed in by the HTTP-only cookies that sign-in
// sets (writes carry the page's Origin, which the server checks), with the access token of the last
// sign-in or refresh kept in memory only, for the socket's handshake. The page cannot see the HTTP-only
// cookie, so it keeps a hint (no secret) that one was set: a first visit does not ask the server for a
// session it cannot have, which the browser would log as a failed request.

const SIGNED_IN_HINT = "gatehouse.console.signedIn";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export class Api {
  constructor() {
    this.token = null;
    this.expiresAt = 0;
    this.onSignedOut = () => {};
    this._refreshing = null;
  }

  async signIn(email, password) {
    this._keep(await this._send("POST", "/v1/auth/login", { email, password }));
  }

  /** Picks up the session a cookie still holds (after a reload); false when there is none. */
  async resume() {
    if (!localStorage.getItem(SIGNED_IN_HINT)) return false;
    try {
      await this.refresh();
      return true;
    } catch (error) {
      if (error instanceof ApiError) return false;
      throw error;
    }
  }

  /** A new access token through the refresh cookie; one refresh at a time, whoever asks. */
  refresh() {
    this._refreshing ??= this._send("POST", "/v1/auth/refresh", {})
      .then((body) => this._keep(body))
      .catch((error) => {
        if (error instanceof ApiError) localStorage.removeItem(SIGNED_IN_HINT);
        throw error;
      })
      .finally(() => { this._refreshing = null; });
    return this._refreshing;
  }

  async signOut() {
    try {
      await this._send("POST", "/v1/auth/logout", {});
    } finally {
      this.token = null;
      localStorage.removeItem(SIGNED_IN_HINT);
    }
  }

  get(path, params = {}) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null));
    return this.request("GET", query.size ? `${path}?${query}` : path);
  }

  /** Every page of a list, up to `pages` of a hundred. */
  async all(path, params = {}, pages = 20) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < pages; page += 1) {
      const found = await this.get(path, { ...params, limit: 100, cursor });
      items.push(...found.items);
      cursor = found.next_cursor;
      if (!cursor) break;
    }
    return items;
  }

  post(path, body = {}) {
    return this.request("POST", path, body);
  }

  /** A call signed in by cookie; an expired access token is refreshed once, and a session that cannot be
   * refreshed any more signs the console out. */
  async request(method, path, body) {
    try {
      return await this._send(method, path, body);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      try {
        await this.refresh();
      } catch {
        this.token = null;
        this.onSignedOut("Your session has ended. Sign in again.");
        throw error;
      }
      return this._send(method, path, body);
    }
  }

  _keep(body) {
    this.token = body.access_token;
    this.expiresAt = Date.now() + body.expires_in * 1000;
    localStorage.setItem(SIGNED_IN_HINT, "1");
  }

  async _send(method, path, body) {
    const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText, error.details);
    }
    return data;
  }
}
