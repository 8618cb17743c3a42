// Live total of a count: every input[data-value] × its value, shown in #live-total. The sum is
// kept in whole paise; only the rupees are handed to Intl.NumberFormat, which groups their digits
// as the form's data-number-locale says (en-IN: 1,50,001.50; en-US: 150,001.50), as the server does.
(function () {
  var form = document.querySelector("form[data-live-total]");
  if (!form) return;
  var out = document.getElementById("live-total");
  var rupees = new Intl.NumberFormat(form.dataset.numberLocale || undefined, { maximumFractionDigits: 0 });
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
    out.textContent = rupees.format(Math.floor(total / 100)) + "." + String(total % 100).padStart(2, "0");
  }
  form.addEventListener("input", update);
  update();
})();
