// The agent's desk: own state, the screen pop of the call being offered, the case note.
"use strict";

(() => {
  const { post, duration, el, since, live, clock } = ACD;
  let view = null;
  let popCall = null; // the call the pop and the note are about
  const $ = (id) => document.getElementById(id);

  function say(id, text, error) {
    $(id).className = error ? "message error" : "message";
    $(id).textContent = text;
  }

  function drawState() {
    const a = view.agent;
    if (!a) return;
    $("agent-title").textContent = a.name ? `${a.name} · ${a.number}` : `Agent ${a.number}`;
    $("agent-queues").textContent = a.queues.length ? `queues: ${a.queues.join(", ")}` : "";
    $("my-state").dataset.state = a.state;
    $("my-state").textContent = a.state + (a.reason ? ` · ${a.reason}` : "");
    $("my-since").dataset.since = a.seconds_in_state;
    $("my-since").textContent = duration(since(a.seconds_in_state));
    const st = a.state;
    $("btn-login").disabled = st !== "logged-out";
    $("btn-ready").disabled = !(st === "not-ready");
    $("btn-pause").disabled = !(st === "ready" || st === "wrap-up");
    $("btn-logout").disabled = st === "logged-out" || st === "on-call" || st === "reserved";
    const select = $("pause-reason");
    if (!select.options.length) {
      select.replaceChildren(...view.pause_reasons.map((r) => el("option", { value: r, text: r })));
    }
  }

  function historyRows(found) {
    if (!found) return [el("li", { class: "empty", text: "history not available" })];
    const earlier = (found.history || []).filter((r) => r.call_id !== popCall);
    if (!earlier.length) return [el("li", { class: "empty", text: "first call from this number" })];
    const s = found.summary || {};
    const head = el("li", { class: "summary-row" },
      el("b", { text: `${found.calls} calls` }), ` since ${(found.first_call || "").slice(0, 10)}`,
      ` · answered ${s.answered ?? "–"} · abandoned ${s.abandoned ?? "–"}`,
      s.average_score !== null && s.average_score !== undefined ? ` · avg score ${s.average_score}` : "",
      s.complaints ? ` · ${s.complaints} complaint(s)` : "");
    return [head, ...earlier.slice(0, 8).map((r) => {
      const note = (r.notes || []).map((n) => n.need || n.text).filter(Boolean).join("; ");
      return el("li", {},
        el("span", { class: "when", text: r.when ? new Date(r.when).toLocaleString([], { hour12: false, dateStyle: "short", timeStyle: "short" }) : "" }),
        ` · ${r.queue || "–"} · agent ${r.agent || "–"} · ${r.disposition || ""}`,
        r.survey_score ? ` · rated ${r.survey_score}/${r.survey_scale || 5}` : "",
        note ? el("div", { class: "note", text: note }) : null);
    })];
  }

  async function loadDetails(callId) {
    try {
      const response = await fetch(`/api/me/calls/${encodeURIComponent(callId)}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const details = await response.json();
      if (callId !== popCall) return;
      $("pop-ivr").textContent = details.ivr_path || "–";
      $("pop-history").replaceChildren(...historyRows(details.history));
    } catch (e) { /* the pop still shows what the stream said */ }
  }

  function drawPop() {
    const pop = view.pop;
    $("pop").dataset.status = pop ? pop.status : "none";
    $("pop-empty").hidden = Boolean(pop);
    $("pop-body").hidden = !pop;
    $("pop-status").textContent = pop ? pop.status : "";
    $("pop-status").dataset.state = pop ? ({ ringing: "reserved", talking: "on-call", ended: "logged-out" })[pop.status] : "";
    $("note-save").disabled = !pop;
    if (!pop) return;
    $("pop-caller").textContent = pop.caller;
    $("pop-queue").textContent = pop.queue;
    $("pop-wait").textContent = duration(pop.waited_seconds);
    $("note-call").textContent = `call ${pop.call_id}`;
    if (pop.call_id !== popCall) {
      popCall = pop.call_id;
      $("pop-ivr").textContent = "…";
      $("pop-history").replaceChildren(el("li", { class: "empty", text: "…" }));
      $("note-form").reset();
      say("note-message", "");
      loadDetails(pop.call_id);
    }
  }

  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => {
      const action = button.dataset.action;
      const body = action === "pause" ? { reason: $("pause-reason").value } : {};
      post(`/api/me/${action}`, body)
        .then((r) => say("message", `now ${r.state}${r.reason ? " (" + r.reason + ")" : ""}`))
        .catch((e) => say("message", e.message, true));
    });
  }

  $("note-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!popCall) return;
    const form = new FormData($("note-form"));
    const body = { call_id: popCall };
    for (const [k, v] of form.entries()) body[k] = v;
    post("/api/me/notes", body)
      .then(() => say("note-message", "saved"))
      .catch((err) => say("note-message", err.message, true));
  });

  setInterval(() => {
    const node = $("my-since");
    if (view && node.dataset.since !== "null") node.textContent = duration(since(Number(node.dataset.since)));
  }, 1000);

  clock();
  live("/events/agent", "agent", (data) => { view = data; drawState(); drawPop(); });
})();
