// Live total of a count: every input[data-value] × its value, shown in #live-total.
(function () {
  var form = document.querySelector("form[data-live-total]");
  if (!form) return;
  var out = document.getElementById("live-total");
  function cents(text) {
    var parts = String(text).split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }
  function update() {
    var total = 0;
    form.querySelectorAll("input[data-value]").forEach(function (input) {
      var n = parseInt(input.value, 10);
      if (n > 0) total += n * cents(input.dataset.value);
    });
    out.textContent = Math.floor(total / 100) + "." + String(total % 100).padStart(2, "0");
  }
  form.addEventListener("input", update);
  update();
})();
