// The label sheet's print button (no inline handlers: the CSP allows none).
document.getElementById("print-labels").addEventListener("click", function () { window.print(); });

// A long address (a street or company name of two or three lines) must not push the addressee's
// name off the bottom of its label, where overflow is cut: such a label's text is made smaller
// until the block fits. Measured here, in the fonts of the machine that prints.
var LABEL_POINTS = 8.5, SMALLEST_POINTS = 5.5;
function fitLabels() {
  document.querySelectorAll(".label").forEach(function (label) {
    var points = LABEL_POINTS;
    label.style.fontSize = "";
    while (label.scrollHeight > label.clientHeight && points > SMALLEST_POINTS) {
      points -= 0.25;
      label.style.fontSize = points + "pt";
      label.dataset.fitted = "1";
    }
  });
}
fitLabels();
if (document.fonts && document.fonts.ready) document.fonts.ready.then(fitLabels);
