// The print button of a printable page (no inline scripts: the CSP allows none).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-route");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
});
