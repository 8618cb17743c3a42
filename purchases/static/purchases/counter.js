/* The billing page's counter conveniences, beside billing.js: the Park key, and the UPI QR code
 * for the UPI amount (GET /api/v1/upi-qr, the store's UPI id and the amount; drawn by the server).
 * Parking itself is a plain form post (the Park button), so it works without this file. */
(() => {
  "use strict";

  const form = document.getElementById("bill-form");
  if (!form) return;

  // --- Park: the button's key (F8) from anywhere on the page ------------------------------------
  const park = document.getElementById("park");
  if (park) {
    const key = park.getAttribute("aria-keyshortcuts") || "F8";
    document.addEventListener("keydown", (event) => {
      if (event.key !== key || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
      event.preventDefault();
      form.requestSubmit(park);
    });
  }

  // --- UPI: the QR code for the amount typed in "UPI amount" -------------------------------------
  const box = document.getElementById("upi-qr");
  const amountInput = form.querySelector('input[name="upi_amount"]');
  if (!box || !amountInput) return;
  const code = document.getElementById("upi-qr-code");
  const AMOUNT = /^[0-9]{1,16}(?:\.[0-9]{1,2})?$/;
  let timer = null;
  let controller = null;

  const hide = () => {
    box.hidden = true;
    code.replaceChildren();
    delete box.dataset.uri;
  };

  const draw = async () => {
    const amount = amountInput.value.trim();
    if (!AMOUNT.test(amount) || Number(amount) <= 0) {
      hide();
      return;
    }
    controller?.abort();
    controller = new AbortController();
    try {
      const query = new URLSearchParams({ amount, ref: box.dataset.ref || "" });
      const response = await fetch(`${box.dataset.url}?${query}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      if (!response.ok) {
        hide();
        return;
      }
      const data = await response.json();
      const svg = new DOMParser().parseFromString(data.svg, "image/svg+xml").documentElement;
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", `UPI QR code for ${amount}`);
      code.replaceChildren(document.importNode(svg, true));
      box.dataset.uri = data.uri;
      box.hidden = false;
    } catch (error) {
      if (error.name !== "AbortError") console.warn("UPI QR code failed", error);
    }
  };

  amountInput.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(draw, 250);
  });
  if (amountInput.value.trim()) draw();
})();
