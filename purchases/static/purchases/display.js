/* The customer-facing display: polls the till's state (/billing/display/state/) every half second
 * and redraws when it changed. The state comes from the cashier's page through the server
 * (purchases/display.py); amounts arrive formatted, so no arithmetic happens here. */
(() => {
  "use strict";

  const root = document.getElementById("display");
  if (!root) return;
  const POLL_MS = 500;
  const idle = document.getElementById("display-idle");
  const table = document.getElementById("display-lines");
  const body = table.querySelector("tbody");
  const total = document.getElementById("display-total");
  const saved = document.getElementById("display-saved");
  const upi = document.getElementById("display-upi");
  const upiCode = document.getElementById("display-upi-code");

  const cell = (text, numeric) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (numeric) td.className = "num";
    return td;
  };

  const drawUpi = (state) => {
    if (!state.upi) {
      upi.hidden = true;
      upiCode.replaceChildren();
      root.classList.remove("display--upi");
      return;
    }
    const svg = new DOMParser().parseFromString(state.upi.svg, "image/svg+xml").documentElement;
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `UPI QR code for ${state.upi.amount}`);
    upiCode.replaceChildren(document.importNode(svg, true));
    document.getElementById("display-upi-amount").textContent = state.upi.amount;
    document.getElementById("display-upi-payee").textContent = state.upi.payee;
    upi.hidden = false;
    root.classList.add("display--upi");
  };

  const draw = (state) => {
    const lines = state.lines || [];
    body.replaceChildren(
      ...lines.map((line) => {
        const tr = document.createElement("tr");
        tr.append(cell(line.name), cell(line.quantity, true), cell(line.price, true), cell(line.amount, true));
        return tr;
      }),
    );
    table.hidden = lines.length === 0;
    if (state.status === "done") {
      idle.textContent = state.change_due ? `Thank you! Your change: ${state.change_due}` : "Thank you!";
    } else {
      idle.textContent = "Welcome!";
    }
    idle.hidden = lines.length > 0;
    total.hidden = !state.payable || lines.length === 0;
    total.textContent = state.payable ? `To pay: ${state.payable}` : "";
    saved.hidden = !state.you_saved;
    saved.textContent = state.you_saved ? `You save ${state.you_saved}` : "";
    drawUpi(state);
    root.dataset.status = state.status;
    root.dataset.seq = String(state.seq);
  };

  const poll = async () => {
    try {
      const response = await fetch(root.dataset.stateUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      if (response.ok) {
        const state = await response.json();
        if (String(state.seq) !== root.dataset.seq) draw(state);
      }
    } catch (error) {
      console.warn("display poll failed", error);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  };
  poll();
})();
