// The label sheet's print button (no inline handlers: the CSP allows none).
document.getElementById("print-labels").addEventListener("click", function () { window.print(); });
