// The live devices page: lists the sessions the server sends, and shows
// the page signed out when the server ends the stream with its session.
// document.body.dataset.live is "connecting", "open" or "ended".
"use strict";
(() => {
  const status = document.getElementById("live-status");
  const rows = document.getElementById("live-sessions");
  const body = document.body;
  body.dataset.live = "connecting";
  const events = new EventSource("/devices/events");

  const cell = (tr, text) => {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
    return td;
  };

  events.addEventListener("open", () => {
    body.dataset.live = "open";
    status.textContent = "Connected: the server closes this connection when the session ends.";
  });
  events.addEventListener("sessions", (e) => {
    rows.replaceChildren(...JSON.parse(e.data).map((s) => {
      const tr = document.createElement("tr");
      if (s.current) tr.className = "current";
      const dev = cell(tr, s.device);
      if (s.current) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = "this device";
        dev.append(" ", badge);
      }
      cell(tr, s.ip || "unknown");
      cell(tr, s.hash + "…");
      return tr;
    }));
  });
  events.addEventListener("ended", (e) => {
    events.close();
    body.dataset.live = "ended";
    status.className = "flash error";
    status.textContent = "Signed out. " + e.data;
    const link = document.createElement("a");
    link.href = "/login";
    link.textContent = "Sign in again";
    status.append(" ", link);
    rows.replaceChildren();
  });
  events.addEventListener("error", () => {
    // A closed stream the server refuses to reopen (401: no session).
    if (events.readyState === EventSource.CLOSED && body.dataset.live !== "ended") {
      body.dataset.live = "ended";
      status.className = "flash error";
      status.textContent = "Signed out: the server refused to reopen the stream.";
    }
  });
})();
