// A manager's override at the counter: a small dialog for the manager's username and PIN.
// It opens when the page says a manager is needed (#override-needed: the action refused, which form
// to send again and with which button), or when a form marked data-override-action is sent without a
// token. Enter approves, Escape cancels. On approval the single-use token goes into the form's
// override_token field and the form is sent again, with everything the cashier typed still in it.
(function () {
  "use strict";
  var dialog = document.getElementById("override-dialog");
  if (!dialog) return;
  var box = dialog.querySelector("form");
  var username = document.getElementById("override-username");
  var pin = document.getElementById("override-pin");
  var error = document.getElementById("override-error");
  var approve = document.getElementById("override-approve");
  var pending = null; // {action, form, submitter}

  var LABELS = {
    discount: "A discount above the cashier's limit needs a manager.",
    refund: "A return needs a manager.",
    cash_movement: "Cash in or out needs a manager.",
    open_variance: "An opening count this far off needs a manager.",
    close_variance: "A manager approves this count.",
    price_override: "A price change needs a manager."
  };

  function csrf(form) {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function tokenField(form) {
    var field = form.querySelector("input[name=override_token]");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "override_token";
      form.appendChild(field);
    }
    return field;
  }

  function open(action, form, submitter) {
    pending = { action: action, form: form, submitter: submitter };
    document.getElementById("override-what").textContent = LABELS[action] || LABELS.close_variance;
    error.hidden = true;
    error.textContent = "";
    pin.value = "";
    dialog.showModal();
    (username.value ? pin : username).focus();
  }

  function send(form, submitter) {
    if (typeof form.requestSubmit === "function") form.requestSubmit(submitter || undefined);
    else form.submit();
  }

  box.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!pending || approve.disabled) return;
    if (!username.value.trim() || !/^[0-9]{4,8}$/.test(pin.value)) {
      error.textContent = "Enter the manager's username and PIN (4 to 8 digits).";
      error.hidden = false;
      (username.value.trim() ? pin : username).focus();
      return;
    }
    var body = new URLSearchParams();
    body.set("username", username.value.trim());
    body.set("pin", pin.value);
    body.set("action", pending.action);
    approve.disabled = true;
    fetch(dialog.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(pending.form), "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    })
      .then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
      })
      .then(function (result) {
        approve.disabled = false;
        if (!result.ok) {
          error.textContent = result.answer.message || "Not approved.";
          error.hidden = false;
          pin.value = "";
          pin.focus();
          return;
        }
        var target = pending;
        pending = null;
        tokenField(target.form).value = result.answer.token;
        dialog.close();
        send(target.form, target.submitter);
      })
      .catch(function () {
        approve.disabled = false;
        error.textContent = "Could not reach the server; try again.";
        error.hidden = false;
      });
  });

  // Escape closes a modal dialog by itself ("cancel"); nothing is sent, and the form is as it was.
  dialog.addEventListener("close", function () { pending = null; });

  // Forms that always need a manager's token (the approval of a count at the till).
  document.querySelectorAll("form[data-override-action]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var field = form.querySelector("input[name=override_token]");
      if (field && field.value) return;
      event.preventDefault();
      open(form.dataset.overrideAction, form, event.submitter);
    });
  });

  var needed = document.getElementById("override-needed");
  if (needed) {
    var form = document.getElementById(needed.dataset.form);
    var submitter = needed.dataset.submitter ? document.querySelector(needed.dataset.submitter) : null;
    if (form) open(needed.dataset.action, form, submitter);
  }
})();
