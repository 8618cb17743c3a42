/* The billing page's conveniences. The page works without this file: every action here is also a
 * plain form post. No money arithmetic happens here; the preview comes from the server
 * (/billing/preview/, computed with the same pricing.quote() the bill uses). */
(() => {
  "use strict";

  document.documentElement.classList.add("js");

  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }

  const form = document.getElementById("bill-form");
  if (!form) return;

  const rowsBody = document.getElementById("line-rows");
  const template = document.getElementById("line-template");
  const totalInput = form.querySelector('input[name="lines-TOTAL_FORMS"]');
  const maxRows = Number.parseInt(form.querySelector('input[name="lines-MAX_NUM_FORMS"]').value, 10) || 200;
  const datalist = document.getElementById("product-options");
  const summary = document.getElementById("summary");
  const previousBills = document.getElementById("previous-bills");
  const customerInput = form.querySelector('input[name="customer"]');
  const addButton = document.getElementById("add-row");

  const rows = () => Array.from(rowsBody.querySelectorAll("tr[data-line]"));
  const productInput = (row) => row.querySelector('input[name$="-product"]');
  const quantityInput = (row) => row.querySelector('input[name$="-quantity"]');

  // --- Rows ------------------------------------------------------------------------------------

  const renumber = () => {
    rows().forEach((row, index) => {
      for (const element of row.querySelectorAll("[name], [id], [for]")) {
        for (const attribute of ["name", "id", "for"]) {
          const value = element.getAttribute(attribute);
          if (value) element.setAttribute(attribute, value.replace(/lines-(\d+|__prefix__)-/, `lines-${index}-`));
        }
      }
      for (const element of row.querySelectorAll("[data-line-number]")) element.textContent = String(index + 1);
      row.querySelector("[data-remove-row]").value = String(index);
    });
    totalInput.value = String(rows().length);
  };

  const addRow = () => {
    if (rows().length >= maxRows) return null;
    rowsBody.appendChild(template.content.cloneNode(true));
    renumber();
    const row = rows().at(-1);
    productInput(row).focus();
    return row;
  };

  const clearRowErrors = (row) => {
    for (const element of row.querySelectorAll("[data-line-error]")) element.remove();
    for (const element of row.querySelectorAll(".field--invalid")) element.classList.remove("field--invalid");
  };

  const removeRow = (row) => {
    const list = rows();
    const index = list.indexOf(row);
    if (list.length === 1) {
      productInput(row).value = "";
      quantityInput(row).value = "1";
      row.querySelector("[data-line-info]").innerHTML = "";
      clearRowErrors(row);
      productInput(row).focus();
    } else {
      row.remove();
      const next = rows()[Math.min(index, rows().length - 1)];
      productInput(next).focus();
    }
    renumber();
    schedulePreview(0);
  };

  // Enter in a row moves to the next empty row, adding one at the end when there is none.
  const nextRow = (row) => {
    const list = rows();
    const empty = list.slice(list.indexOf(row) + 1).find((candidate) => !productInput(candidate).value.trim());
    if (empty) {
      productInput(empty).focus();
    } else {
      addRow();
    }
  };

  addButton.addEventListener("click", (event) => {
    event.preventDefault();
    addRow();
  });

  rowsBody.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-row]");
    if (!button) return;
    event.preventDefault();
    removeRow(button.closest("tr[data-line]"));
  });

  // Ctrl+Enter (⌘+Enter on a Mac) generates the bill from anywhere on the page, as the button says.
  const generateButton = document.getElementById("generate");
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
    event.preventDefault();
    event.stopPropagation();
    if (!submitting) form.requestSubmit(generateButton);
  }, true);

  form.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key !== "Enter" || event.isComposing || target.tagName !== "INPUT") return;
    // Enter never rings up a bill; "Generate bill" does.
    event.preventDefault();
    const row = target.closest("tr[data-line]");
    if (row && target === productInput(row)) {
      scan(row).then((result) => {
        if (result === "merged") {
          productInput(row).focus();
        } else if (result !== "refused") {
          nextRow(row);
        }
        schedulePreview(0);
      });
    } else if (row) {
      nextRow(row);
      schedulePreview(0);
    } else if (target === customerInput) {
      loadPreviousBills();
      productInput(rows()[0]).focus();
    } else {
      schedulePreview(0);
    }
  });

  // One post per click: a double click must not ring the bill up twice.
  let submitting = false;
  form.addEventListener("submit", (event) => {
    if (submitting) event.preventDefault();
    submitting = true;
  });
  window.addEventListener("pageshow", () => {
    submitting = false;
  });

  // --- Scanning --------------------------------------------------------------------------------

  // What a scanner sends: an EAN-8, a UPC-A or an EAN-13 (a product's barcode or a scale label).
  const CODE = /^(?:[0-9]{8}|[0-9]{12,13})$/;

  const showRowProblem = (row, message) => {
    clearRowErrors(row);
    const cell = productInput(row).closest("td");
    const problem = document.createElement("p");
    problem.className = "field-error";
    problem.dataset.lineError = "";
    problem.textContent = message;
    cell.classList.add("field--invalid");
    cell.appendChild(problem);
  };

  const rowOf = (product, except) =>
    rows().find((other) => {
      if (other === except) return false;
      if (other.dataset.productId === String(product.id)) return true;
      return productInput(other).value.trim().toLowerCase() === product.value.toLowerCase();
    });

  // Resolves a scanned code in its row: the product's SKU (or id) and the quantity (a scale
  // label's weight) go into the row, or, for a product sold each that another row already holds,
  // that row's quantity goes up by one and this row is emptied for the next scan. A code no
  // product has is left as typed, for the server to judge (it may be a SKU or an id).
  const scan = async (row) => {
    const input = productInput(row);
    const code = input.value.trim();
    if (!CODE.test(code)) return "none";
    let response;
    let product;
    try {
      response = await fetch(`${form.dataset.scanUrl}?code=${encodeURIComponent(code)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      product = await response.json();
    } catch (error) {
      console.warn("scan lookup failed", error);
      return "none";
    }
    if (response.status === 404) return "none";
    if (!response.ok) {
      showRowProblem(row, product.message);
      return "refused";
    }
    const same = rowOf(product, row);
    if (same && product.unit === "each" && product.found_by !== "scale_label") {
      const quantity = quantityInput(same);
      quantity.value = String((Number.parseInt(quantity.value, 10) || 0) + 1);
      input.value = "";
      quantityInput(row).value = "1";
      delete row.dataset.productId;
      row.querySelector("[data-line-info]").innerHTML = "";
      return "merged";
    }
    input.value = product.value;
    quantityInput(row).value = product.quantity;
    row.dataset.productId = String(product.id);
    return "set";
  };

  // --- Live preview ----------------------------------------------------------------------------

  let previewTimer = null;
  let previewController = null;

  const preview = async () => {
    previewController?.abort();
    previewController = new AbortController();
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: previewController.signal,
      });
      if (!response.ok) return;
      const data = await response.json();
      const list = rows();
      for (const info of data.rows) {
        const row = list[info.index];
        if (row) row.querySelector("[data-line-info]").innerHTML = info.html;
      }
      summary.innerHTML = data.summary_html;
      form.dataset.previewed = String(Number(form.dataset.previewed || 0) + 1);
    } catch (error) {
      if (error.name !== "AbortError") console.warn("preview failed", error);
    }
  };

  function schedulePreview(delay = 300) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, delay);
  }

  form.addEventListener("input", (event) => {
    const row = event.target.closest("tr[data-line]");
    if (row) clearRowErrors(row);
    if (row && event.target === productInput(row)) {
      delete row.dataset.productId;
      suggest(event.target);
    }
    if (event.target !== customerInput) schedulePreview();
  });

  // --- Product suggestions ---------------------------------------------------------------------

  let suggestTimer = null;
  let suggestController = null;

  const suggest = (input) => {
    clearTimeout(suggestTimer);
    const term = input.value.trim();
    if (term.length < 2) return;
    suggestTimer = setTimeout(async () => {
      suggestController?.abort();
      suggestController = new AbortController();
      try {
        const url = `${form.dataset.productsUrl}?q=${encodeURIComponent(term)}`;
        const response = await fetch(url, { credentials: "same-origin", signal: suggestController.signal });
        if (!response.ok) return;
        const data = await response.json();
        datalist.replaceChildren(
          ...data.results.map((product) => {
            const option = document.createElement("option");
            option.value = product.value;
            option.label = product.label;
            return option;
          }),
        );
      } catch (error) {
        if (error.name !== "AbortError") console.warn("product lookup failed", error);
      }
    }, 150);
  };

  // --- Previous bills --------------------------------------------------------------------------

  let billsController = null;

  async function loadPreviousBills() {
    billsController?.abort();
    billsController = new AbortController();
    try {
      const url = `${form.dataset.customerBillsUrl}?customer=${encodeURIComponent(customerInput.value.trim())}`;
      const response = await fetch(url, { credentials: "same-origin", signal: billsController.signal });
      if (response.ok) previousBills.innerHTML = await response.text();
    } catch (error) {
      if (error.name !== "AbortError") console.warn("previous bills lookup failed", error);
    }
  }

  customerInput.addEventListener("change", loadPreviousBills);
})();
